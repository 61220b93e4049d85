import type { FastifyBaseLogger, FastifyPluginAsync } from "fastify";
import { z } from "zod";
import {
  completeAttemptRequestSchema,
  completeAttemptsRequestSchema,
  dequeueRequestSchema,
  registerWorkerRequestSchema,
  snapshotReportSchema,
  startAttemptsRequestSchema,
  type ReportItemError,
} from "@runengine/core";
import { knownErrorReply } from "../errors.ts";
import type { RouteContext } from "./routeContext.ts";

const runParams = z.object({ runId: z.string().min(1) });
const deregisterRequestSchema = z.object({ workerId: z.string().min(1) });

/**
 * The worker protocol (see core's schemas/workerProtocol.ts). Every call names a worker of the
 * caller's environment; the engine refuses other environments' workers and runs as not found.
 */
export function workerRoutes({ handle, dispatch }: Pick<RouteContext, "handle" | "dispatch">): FastifyPluginAsync {
  const { engine } = handle;
  return async (app) => {
    app.post("/worker/register", async (request) => {
      const body = registerWorkerRequestSchema.parse(request.body);
      return engine.registerWorker(request.environment, body);
    });

    // A long poll: held until a dispatcher hands over runs or waitMs passes. If the client goes away
    // first (a stopping worker aborts its poll), the request is withdrawn and late runs requeued.
    app.post("/worker/dequeue", async (request, reply) => {
      const { workerId, maxRuns, waitMs } = dequeueRequestSchema.parse(request.body);
      const worker = await engine.workerOf(request.environment.id, workerId);
      const clientGone = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableEnded) clientGone.abort();
      };
      reply.raw.once("close", onClose);
      try {
        const runs = await dispatch.requestRuns(
          { workerId, environmentId: worker.environmentId, deploymentId: worker.deploymentId, maxRuns },
          waitMs,
          clientGone.signal,
        );
        return { runs };
      } finally {
        reply.raw.off("close", onClose);
      }
    });

    app.post("/worker/runs/:runId/start", async (request) => {
      const { runId } = runParams.parse(request.params);
      const report = snapshotReportSchema.parse(request.body);
      return engine.startAttempt(request.environment.id, runId, report);
    });

    // Several runs in one request: each answered as its single-run route would, as an item.
    app.post("/worker/runs/start", async (request) => {
      const { runs } = startAttemptsRequestSchema.parse(request.body);
      return {
        runs: await Promise.all(
          runs.map(({ runId, ...report }) =>
            itemOutcome(request.log, runId, async () => ({ runId, ok: true as const, ...(await engine.startAttempt(request.environment.id, runId, report)) })),
          ),
        ),
      };
    });

    app.post("/worker/runs/complete", async (request, reply) => {
      const { runs } = completeAttemptsRequestSchema.parse(request.body);
      const outcomes = await Promise.all(
        runs.map(({ runId, ...report }) =>
          itemOutcome(request.log, runId, async () => {
            await engine.reportAttemptResult(request.environment.id, runId, report);
            return { runId, ok: true as const };
          }),
        ),
      );
      return reply.status(202).send({ runs: outcomes });
    });

    app.post("/worker/runs/:runId/heartbeat", async (request) => {
      const { runId } = runParams.parse(request.params);
      const report = snapshotReportSchema.parse(request.body);
      return engine.heartbeat(request.environment.id, runId, report);
    });

    app.post("/worker/runs/:runId/complete", async (request, reply) => {
      const { runId } = runParams.parse(request.params);
      const report = completeAttemptRequestSchema.parse(request.body);
      await engine.reportAttemptResult(request.environment.id, runId, report);
      return reply.status(202).send({ accepted: true });
    });

    app.post("/worker/deregister", async (request, reply) => {
      const { workerId } = deregisterRequestSchema.parse(request.body);
      await engine.workerOf(request.environment.id, workerId);
      await engine.workers.deregister(workerId);
      return reply.status(204).send();
    });
  };
}

/** One run's answer in a batched request: its result, or the error reply its single-run call would get. */
async function itemOutcome<T>(log: FastifyBaseLogger, runId: string, fn: () => Promise<T>): Promise<T | ReportItemError> {
  try {
    return await fn();
  } catch (error) {
    const known = knownErrorReply(error);
    if (known) return { runId, ok: false, status: known.status, error: { code: known.body.error.code, message: known.body.error.message } };
    log.error({ event: "http:unhandled-error", err: error, runId }, "unhandled error in a batched worker call");
    return { runId, ok: false, status: 500, error: { code: "INTERNAL_ERROR", message: "Internal error" } };
  }
}
