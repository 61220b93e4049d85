import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { checkpointRequestSchema, snapshotReportSchema, waitRequestSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";

const runParams = z.object({ runId: z.string().min(1) });

/**
 * The worker protocol's waits (see core's schemas/waitpoint.ts): block on a wait, ask whether it
 * ended, checkpoint (the run leaves the worker), and restore a checkpointed run. A report naming a
 * snapshot the run has moved past is a 409, like every other worker report.
 */
export function workerWaitRoutes({ handle, batchBodyLimitBytes }: Pick<RouteContext, "handle" | "batchBodyLimitBytes">): FastifyPluginAsync {
  const { waits } = handle.engine;
  return async (app) => {
    // A wait may trigger a batch of children and carries the journal of a checkpoint.
    app.post("/worker/runs/:runId/wait", { bodyLimit: batchBodyLimitBytes }, async (request, reply) => {
      const { runId } = runParams.parse(request.params);
      const body = waitRequestSchema.parse(request.body);
      return reply.status(201).send(await waits.wait(request.environment, runId, body));
    });

    app.post("/worker/runs/:runId/wait/status", async (request) => {
      const { runId } = runParams.parse(request.params);
      return waits.waitStatus(request.environment.id, runId, snapshotReportSchema.parse(request.body));
    });

    app.post("/worker/runs/:runId/checkpoint", { bodyLimit: batchBodyLimitBytes }, async (request, reply) => {
      const { runId } = runParams.parse(request.params);
      const body = checkpointRequestSchema.parse(request.body);
      return reply.status(201).send(await waits.checkpoint(request.environment.id, runId, body));
    });

    app.post("/worker/runs/:runId/resume", async (request) => {
      const { runId } = runParams.parse(request.params);
      return waits.resume(request.environment.id, runId, snapshotReportSchema.parse(request.body));
    });
  };
}
