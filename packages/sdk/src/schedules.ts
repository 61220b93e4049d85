import { declaredScheduleSchema, scheduledRunPayloadSchema, type DeclaredSchedule, type ScheduledRunPayload } from "@runengine/core/schemas";
import { task, type Task, type TaskOptions } from "./task.ts";

export type { ScheduledRunPayload } from "@runengine/core/schemas";

export interface ScheduledTaskOptions<TOutput> extends Omit<TaskOptions<ScheduledRunPayload, TOutput>, "run"> {
  /** 5 fields (minute hour day month weekday) or 6 with seconds first: "* * * * * *" is every second */
  cron: string;
  /** IANA time zone the cron's wall-clock times are in (default "UTC") */
  timezone?: string;
  /** gets the tick it runs for: `timestamp`, `lastTimestamp` (the tick before), `scheduleId`, `timezone` */
  run: TaskOptions<ScheduledRunPayload, TOutput>["run"];
}

export type ScheduledTask<TOutput> = Task<ScheduledRunPayload, TOutput> & { readonly schedule: DeclaredSchedule };

/**
 * Defines a task that runs on a cron schedule. The schedule is registered with the worker's version:
 * when that version is the environment's newest, the engine creates (or re-times) one schedule for
 * the task, and a later version whose code no longer declares it removes it. Throws a ZodError
 * naming a bad option (an invalid cron or time zone).
 */
function scheduledTask<TOutput = unknown>(options: ScheduledTaskOptions<TOutput>): ScheduledTask<TOutput> {
  const { cron, timezone, run, ...taskOptions } = options;
  const schedule = declaredScheduleSchema.parse({ cron, timezone });
  // Payloads travel as JSON: the tick instants arrive as strings and reach the task as Dates.
  const defined = task<ScheduledRunPayload, TOutput>({ ...taskOptions, run: (payload, params) => run(scheduledRunPayloadSchema.parse(payload), params) });
  return Object.freeze({ ...defined, schedule });
}

/** Scheduled tasks: `schedules.task({ id, cron, timezone?, run })`. */
export const schedules = { task: scheduledTask };
