import { z } from "zod";
import type { JsonTransport } from "../http/jsonTransport.ts";
import type { AnyTask } from "../task.ts";

/** A cron schedule as the api shows it. */
export interface Schedule {
  id: string;
  /** IMPERATIVE: created through the api; DECLARATIVE: declared in code with `schedules.task` */
  type: "IMPERATIVE" | "DECLARATIVE";
  taskId: string;
  cron: string;
  timezone: string;
  externalId: string | null;
  deduplicationKey: string;
  active: boolean;
  lastTickAt: Date | null;
  /** null while the schedule is deactivated */
  nextTickAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScheduleInput {
  /** the task to run, or its id */
  task: AnyTask | string;
  cron: string;
  /** IANA time zone (default "UTC") */
  timezone?: string;
  /** your id for what the schedule is for; every run's payload carries it */
  externalId?: string;
}

export interface CreateScheduleInput extends ScheduleInput {
  /** creating again with the same key updates that schedule instead of adding one */
  deduplicationKey?: string;
}

export interface ScheduleListQuery {
  taskId?: string;
  cursor?: string;
  limit?: number;
}

export interface SchedulePage {
  data: Schedule[];
  nextCursor: string | null;
}

export interface ScheduleClient {
  /** Safe to retry: with a deduplicationKey, a repeat updates the same schedule. */
  create(input: CreateScheduleInput): Promise<Schedule>;
  list(query?: ScheduleListQuery): Promise<SchedulePage>;
  retrieve(id: string): Promise<Schedule>;
  /** Replaces the schedule's task, timing and external id; a new timing moves its next tick. */
  update(id: string, input: ScheduleInput): Promise<Schedule>;
  del(id: string): Promise<{ id: string; deleted: boolean }>;
  activate(id: string): Promise<Schedule>;
  deactivate(id: string): Promise<Schedule>;
}

const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const scheduleSchema: z.ZodType<Schedule> = z.looseObject({
  id: z.string(),
  type: z.enum(["IMPERATIVE", "DECLARATIVE"]),
  taskId: z.string(),
  cron: z.string(),
  timezone: z.string(),
  externalId: z.string().nullable(),
  deduplicationKey: z.string(),
  active: z.boolean(),
  lastTickAt: date.nullable(),
  nextTickAt: date.nullable(),
  createdAt: date,
  updatedAt: date,
});
const schedulePageSchema = z.object({ data: z.array(scheduleSchema), nextCursor: z.string().nullable() });
const deletedSchema = z.object({ id: z.string(), deleted: z.boolean() });

function body(input: ScheduleInput): Omit<ScheduleInput, "task"> & { taskId: string } {
  const { task, ...rest } = input;
  return { taskId: typeof task === "string" ? task : task.id, ...rest };
}

/** `client.schedules`: the environment's cron schedules over `/api/v1/schedules`. */
export function scheduleClient(request: JsonTransport): ScheduleClient {
  const path = (id: string, action = "") => `/api/v1/schedules/${encodeURIComponent(id)}${action}`;
  return {
    create: (input) =>
      request({
        method: "POST",
        path: "/api/v1/schedules",
        body: { ...body(input), ...(input.deduplicationKey ? { deduplicationKey: input.deduplicationKey } : {}) },
        schema: scheduleSchema,
        retry: input.deduplicationKey !== undefined,
      }),
    list: (query = {}) => request({ method: "GET", path: "/api/v1/schedules", query: { ...query }, schema: schedulePageSchema, retry: true }),
    retrieve: (id) => request({ method: "GET", path: path(id), schema: scheduleSchema, retry: true }),
    update: (id, input) => request({ method: "PUT", path: path(id), body: body(input), schema: scheduleSchema, retry: true }),
    del: (id) => request({ method: "DELETE", path: path(id), schema: deletedSchema, retry: false }),
    activate: (id) => request({ method: "POST", path: path(id, "/activate"), schema: scheduleSchema, retry: true }),
    deactivate: (id) => request({ method: "POST", path: path(id, "/deactivate"), schema: scheduleSchema, retry: true }),
  };
}
