import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import {
  completeAttemptRequestSchema,
  dequeueRequestSchema,
  registerWorkerRequestSchema,
  snapshotReportSchema,
} from "@runengine/core";
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
