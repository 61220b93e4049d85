import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { NotFoundError } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";

const queueParams = z.object({ name: z.string().min(1).max(512) });
/** null lifts the limit; it holds over what the tasks declare, also for later deployments */
const concurrencyRequestSchema = z.object({ limit: z.number().int().min(0).max(1_000_000).nullable() });

/**
 * The caller's environment's queues: what each holds queued and in flight against which limit,
 * and the controls (pause, resume, concurrency limit). Another environment's queue is not found.
 */
export function queueRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  const { queueConsole } = handle.engine;
  const queueView = async (environmentId: string, name: string) => {
    const [queue] = await queueConsole.queues(environmentId, [name]);
    if (!queue) throw new NotFoundError("TaskQueue", name);
    return queue;
  };
  return async (app) => {
    app.get("/queues", async (request) => ({ data: await queueConsole.queues(request.environment.id) }));

    app.post("/queues/:name/pause", async (request) => {
      const { name } = queueParams.parse(request.params);
      await queueConsole.pause(request.environment.id, name);
      return queueView(request.environment.id, name);
    });

    app.post("/queues/:name/resume", async (request) => {
      const { name } = queueParams.parse(request.params);
      await queueConsole.resume(request.environment.id, name);
      return queueView(request.environment.id, name);
    });

    app.put("/queues/:name/concurrency", async (request) => {
      const { name } = queueParams.parse(request.params);
      const { limit } = concurrencyRequestSchema.parse(request.body);
      await queueConsole.setConcurrencyLimit(request.environment.id, name, limit);
      return queueView(request.environment.id, name);
    });
  };
}
