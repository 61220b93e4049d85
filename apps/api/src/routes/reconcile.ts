import type { FastifyPluginAsync } from "fastify";
import type { RouteContext } from "./routeContext.ts";

/**
 * The reconcile command (admin token): rebuilds the run queue, its slots, the heartbeat deadlines
 * and the delayed runs' jobs from Postgres, frees slots no run holds, and answers what it repaired.
 * Safe while the engine runs; every step is idempotent.
 */
export function reconcileRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  return async (app) => {
    app.post("/admin/reconcile", async (_request, reply) => {
      const result = await handle.engine.reconciler().rebuild();
      return reply.send(result);
    });
  };
}
