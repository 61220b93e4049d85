import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import type { Schedule } from "@runengine/database";
import { createScheduleRequestSchema, identifierSchema, updateScheduleRequestSchema } from "@runengine/core";
import type { RouteContext } from "./routeContext.ts";

const scheduleParams = z.object({ id: z.string().min(1).max(128) });

const listSchedulesQuerySchema = z.object({
  taskId: identifierSchema.optional(),
  cursor: z.string().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

/** A schedule as the API shows it. */
function scheduleView(schedule: Schedule) {
  return {
    id: schedule.id,
    type: schedule.type,
    taskId: schedule.taskIdentifier,
    cron: schedule.cron,
    timezone: schedule.timezone,
    externalId: schedule.externalId,
    deduplicationKey: schedule.deduplicationKey,
    active: schedule.active,
    lastTickAt: schedule.lastTickAt,
    nextTickAt: schedule.nextTickAt,
    createdAt: schedule.createdAt,
    updatedAt: schedule.updatedAt,
  };
}

/**
 * Cron schedules of the caller's environment: create (or update by deduplicationKey), list, read,
 * replace, delete, pause and resume. A schedule of another environment is not found.
 */
export function scheduleRoutes({ handle }: Pick<RouteContext, "handle">): FastifyPluginAsync {
  const { schedules } = handle.engine;
  return async (app) => {
    app.post("/schedules", async (request, reply) => {
      const input = createScheduleRequestSchema.parse(request.body);
      return reply.status(201).send(scheduleView(await schedules.create(request.environment, input)));
    });

    app.get("/schedules", async (request) => {
      const query = listSchedulesQuerySchema.parse(request.query);
      const page = await schedules.list(request.environment.id, query);
      return { data: page.schedules.map(scheduleView), nextCursor: page.nextCursor };
    });

    app.get("/schedules/:id", async (request) => {
      const { id } = scheduleParams.parse(request.params);
      return scheduleView(await schedules.get(request.environment.id, id));
    });

    app.put("/schedules/:id", async (request) => {
      const { id } = scheduleParams.parse(request.params);
      const input = updateScheduleRequestSchema.parse(request.body);
      return scheduleView(await schedules.update(request.environment.id, id, input));
    });

    app.delete("/schedules/:id", async (request) => {
      const { id } = scheduleParams.parse(request.params);
      await schedules.delete(request.environment.id, id);
      return { id, deleted: true };
    });

    app.post("/schedules/:id/activate", async (request) => {
      const { id } = scheduleParams.parse(request.params);
      return scheduleView(await schedules.activate(request.environment.id, id));
    });

    app.post("/schedules/:id/deactivate", async (request) => {
      const { id } = scheduleParams.parse(request.params);
      return scheduleView(await schedules.deactivate(request.environment.id, id));
    });
  };
}
