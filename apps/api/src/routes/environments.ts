import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { identifierSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";

const createEnvironmentSchema = z.object({
  name: identifierSchema,
  concurrencyLimit: z.number().int().min(0).nullable().optional(),
});

/** Operators' routes (admin token): creating environments and their API keys. */
export function environmentRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  return async (app) => {
    app.post("/environments", async (request, reply) => {
      const body = createEnvironmentSchema.parse(request.body);
      const { environment, apiKey } = await handle.engine.createEnvironment({ name: body.name, concurrencyLimit: body.concurrencyLimit ?? null });
      return reply.status(201).send({ id: environment.id, apiKey });
    });
  };
}
