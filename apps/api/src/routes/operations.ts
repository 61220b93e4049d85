import type { FastifyPluginAsync } from "fastify";
import { isHealthy } from "../health.ts";
import type { RouteContext } from "./routeContext.ts";

/** Unauthenticated endpoints for orchestrators and Prometheus. */
export function operationsRoutes({ handle, metrics }: Pick<RouteContext, "handle" | "metrics">): FastifyPluginAsync {
  return async (app) => {
    app.get("/healthz", async (_request, reply) => {
      const ok = await isHealthy(handle);
      return reply.status(ok ? 200 : 503).send({ ok });
    });

    app.get("/metrics", async (_request, reply) => {
      const body = await metrics.exposition.metrics();
      return reply.type(metrics.exposition.contentType).send(body);
    });
  };
}
