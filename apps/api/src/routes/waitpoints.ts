import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import type { Waitpoint } from "@runengine/database";
import { completeTokenRequestSchema, createTokenRequestSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";
import { optionalFields } from "../jsonBody.ts";

const tokenParams = z.object({ id: z.string().min(1) });

/** A token as the api shows it. */
export function tokenView(token: Waitpoint) {
  return {
    id: token.id,
    status: token.status,
    output: token.output,
    /** the output is an error (the token timed out) */
    isError: token.outputIsError,
    idempotencyKey: token.idempotencyKey,
    timeoutAt: token.timeoutAt,
    completedAt: token.completedAt,
    createdAt: token.createdAt,
  };
}

/**
 * Waitpoint tokens: a task waits on one (`wait.forToken`) until someone completes it here, or it
 * times out. Scoped to the caller's environment: another environment's token is not found.
 */
export function waitpointRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  const { waits } = handle.engine;
  return async (app) => {
    app.post("/waitpoints/tokens", async (request, reply) => {
      const body = createTokenRequestSchema.parse(optionalFields(request.body));
      const { token, isCached } = await waits.createToken(request.environment.id, body);
      return reply.status(isCached ? 200 : 201).send({ ...tokenView(token), isCached });
    });

    app.get("/waitpoints/tokens/:id", async (request) => {
      const { id } = tokenParams.parse(request.params);
      return tokenView(await waits.token(request.environment.id, id));
    });

    app.post("/waitpoints/tokens/:id/complete", async (request) => {
      const { id } = tokenParams.parse(request.params);
      const { data } = completeTokenRequestSchema.parse(optionalFields(request.body));
      return tokenView(await waits.completeToken(request.environment.id, id, data));
    });
  };
}
