import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { batchTriggerRequestSchema, identifierSchema, triggerRequestSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";

const taskParams = z.object({ taskId: identifierSchema });
const batchParams = z.object({ id: z.string().min(1).max(128) });

/** Creating runs: one trigger, or a batch that is refused whole when any item is invalid; and the batch's progress. */
export function taskRoutes({ handle, metrics, batchBodyLimitBytes }: Pick<RouteContext, "handle" | "metrics" | "batchBodyLimitBytes">): FastifyPluginAsync {
  return async (app) => {
    app.post("/tasks/:taskId/trigger", async (request, reply) => {
      const { taskId } = taskParams.parse(request.params);
      const { payload, options } = triggerRequestSchema.parse(request.body);
      const { id, isCached } = await handle.engine.trigger({ environment: request.environment, taskId, payload, options });
      if (!isCached) metrics.runsTriggered.inc();
      return reply.status(isCached ? 200 : 201).send({ id, isCached });
    });

    app.post("/tasks/:taskId/batch", { bodyLimit: batchBodyLimitBytes }, async (request, reply) => {
      const { taskId } = taskParams.parse(request.params);
      const { items } = batchTriggerRequestSchema.parse(request.body);
      const { batchId, runs } = await handle.engine.batchTrigger(request.environment, taskId, items);
      metrics.runsTriggered.inc(runs.filter((run) => !run.isCached).length);
      return reply.status(201).send({ batchId, runs: runs.map(({ id, isCached }) => ({ id, isCached })) });
    });

    app.get("/batches/:id", async (request) => {
      const { id } = batchParams.parse(request.params);
      const { batch, status, runsByStatus } = await handle.engine.reads.batch(request.environment.id, id);
      return { id: batch.id, taskId: batch.taskIdentifier, status, runCount: batch.runCount, runsByStatus, createdAt: batch.createdAt };
    });
  };
}
