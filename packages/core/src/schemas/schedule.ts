import { z } from "zod";
import { cronProblem, isTimeZone } from "../schedules/cron.ts";
import { identifierSchema } from "./trigger.ts";

export const cronSchema = z
  .string()
  .max(256)
  .superRefine((expression, ctx) => {
    const problem = cronProblem(expression);
    if (problem) ctx.addIssue({ code: "custom", message: `not a cron expression: ${problem}` });
  });

export const timezoneSchema = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: "not an IANA time zone (e.g. \"UTC\", \"Europe/Paris\")" });

/** A schedule's timing as a task declares it in code (`schedules.task`). */
export const declaredScheduleSchema = z.object({ cron: cronSchema, timezone: timezoneSchema.default("UTC") });

const scheduleFields = {
  taskId: identifierSchema,
  cron: cronSchema,
  timezone: timezoneSchema.default("UTC"),
  /** the caller's own id for what the schedule is for (a user, a tenant); passed to every run */
  externalId: z.string().min(1).max(256).optional(),
};

/** POST /api/v1/schedules. A deduplicationKey already used in the environment updates that schedule. */
export const createScheduleRequestSchema = z.object({
  ...scheduleFields,
  deduplicationKey: z.string().min(1).max(256).optional(),
});

/** PUT /api/v1/schedules/:id: the schedule's new task, timing and external id. */
export const updateScheduleRequestSchema = z.object(scheduleFields);

/** What each run a schedule triggers gets as its payload. */
export const scheduledRunPayloadSchema = z.object({
  scheduleId: z.string(),
  /** the tick this run is for */
  timestamp: z.coerce.date(),
  /** the tick before it, undefined for a schedule's first run */
  lastTimestamp: z.coerce.date().optional(),
  externalId: z.string().optional(),
  timezone: z.string(),
});

export type CreateScheduleRequest = z.output<typeof createScheduleRequestSchema>;
export type UpdateScheduleRequest = z.output<typeof updateScheduleRequestSchema>;
export type DeclaredSchedule = z.output<typeof declaredScheduleSchema>;
export type ScheduledRunPayload = z.output<typeof scheduledRunPayloadSchema>;
