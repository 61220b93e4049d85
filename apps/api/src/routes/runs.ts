import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { TaskRunStatus } from "@runengine/database";
import { rescheduleRequestSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";
import { runView, snapshotView } from "./views.ts";
import { optionalFields } from "../jsonBody.ts";

const runParams = z.object({ id: z.string().min(1) });

/** `?status=` (a form left blank) means no filter, not an invalid status. */
const blankAsUnset = (value: unknown) => (value === "" ? undefined : value);

const listRunsQuerySchema = z.object({
  status: z.preprocess(blankAsUnset, z.enum(TaskRunStatus).optional()),
  taskId: z.preprocess(blankAsUnset, z.string().max(128).optional()),
  cursor: z.preprocess(blankAsUnset, z.string().max(128).optional()),
  limit: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(100).default(25)),
});

/** Reading, cancelling, rescheduling and replaying runs, always within the caller's environment. */
export function runRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  const { engine } = handle;
  return async (app) => {
    app.get("/runs", async (request) => {
      const query = listRunsQuerySchema.parse(request.query);
      const { runs, nextCursor } = await engine.reads.list(request.environment.id, query);
      return { data: runs.map(runView), nextCursor };
    });

    app.get("/runs/:id", async (request) => {
      const { id } = runParams.parse(request.params);
      return runView(await engine.reads.run(request.environment.id, id));
    });

    app.get("/runs/:id/history", async (request) => {
      const { id } = runParams.parse(request.params);
      const snapshots = await engine.reads.history(request.environment.id, id);
      return { snapshots: snapshots.map(snapshotView) };
    });

    app.post("/runs/:id/cancel", async (request) => {
      const { id } = runParams.parse(request.params);
      const status = await engine.cancel(request.environment.id, id);
      return { id, status };
    });

    app.post("/runs/:id/reschedule", async (request) => {
      const { id } = runParams.parse(request.params);
      const { delay } = rescheduleRequestSchema.parse(optionalFields(request.body));
      return runView(await engine.reschedule(request.environment.id, id, delay));
    });

    app.post("/runs/:id/replay", async (request, reply) => {
      const { id } = runParams.parse(request.params);
      const replay = await engine.replay(request.environment.id, id);
      return reply.status(201).send({ id: replay.id, replayedFromRunId: id });
    });
  };
}
