import { z } from "zod";
import { TaskRunStatus, type Prisma, type TaskRun } from "@runengine/database";
import { ValidationError } from "../errors/runEngineError.ts";
import { runStatusWhere } from "../snapshots/runStatusQueries.ts";

/** A form field left blank means "no filter", not an invalid value. */
const blankAsUnset = (value: unknown) => (value === "" || value === null ? undefined : value);
const optionalText = (max: number) => z.preprocess(blankAsUnset, z.string().trim().min(1).max(max).optional());
const optionalInstant = z.preprocess(blankAsUnset, z.coerce.date().optional());
/** One status (`?status=X`) or several (`?status=X&status=Y`). */
const statuses = z.preprocess(
  (value) => (value === undefined || value === "" ? undefined : Array.isArray(value) ? value.filter((v) => v !== "") : [value]),
  z.array(z.enum(TaskRunStatus)).max(Object.keys(TaskRunStatus).length).optional(),
);

/**
 * Which runs an operator is looking at (the runs page) or acting on (a bulk action). Every field is
 * optional; an empty filter means every run of every environment. Stored as the BulkAction's
 * `filter`, so it is parsed again when the action is processed.
 */
export const runFilterSchema = z.object({
  runId: optionalText(128),
  environmentId: optionalText(128),
  taskId: optionalText(128),
  status: statuses,
  tag: optionalText(128),
  idempotencyKey: optionalText(512),
  /** created at or after */
  from: optionalInstant,
  /** created before */
  to: optionalInstant,
});

export type RunFilter = z.output<typeof runFilterSchema>;

/** The filter as a Prisma condition on TaskRun, served by the createdAt indexes (statuses: see runStatusWhere). */
export function runFilterWhere(filter: RunFilter): Prisma.TaskRunWhereInput {
  return {
    ...(filter.runId ? { id: filter.runId } : {}),
    ...(filter.environmentId ? { environmentId: filter.environmentId } : {}),
    ...(filter.taskId ? { taskIdentifier: filter.taskId } : {}),
    ...(filter.status?.length ? runStatusWhere(filter.status) : {}),
    ...(filter.tag ? { tags: { has: filter.tag } } : {}),
    ...(filter.idempotencyKey ? { idempotencyKey: filter.idempotencyKey } : {}),
    ...(filter.from || filter.to
      ? { createdAt: { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } }
      : {}),
  };
}

/** The filter as JSON for storage (a BulkAction) and for links (dates as ISO strings). */
export function runFilterToJson(filter: RunFilter): Record<string, string | string[]> {
  const json: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === undefined) continue;
    json[key] = value instanceof Date ? value.toISOString() : value;
  }
  return json;
}

/**
 * A position in a list of runs ordered by (createdAt, id): the last run seen. Opaque to users; it
 * makes every page cost the same however deep it is (keyset pagination).
 */
export function encodeRunCursor(run: Pick<TaskRun, "createdAt" | "id">): string {
  return Buffer.from(`${run.createdAt.getTime()}:${run.id}`).toString("base64url");
}

/** The runs after the cursor's run in a list ordered by (createdAt, id) `direction`. */
export function pastCursor(cursor: string, direction: "asc" | "desc"): Prisma.TaskRunWhereInput {
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  const colon = decoded.indexOf(":");
  const ms = Number(decoded.slice(0, colon));
  const id = decoded.slice(colon + 1);
  if (colon <= 0 || !Number.isSafeInteger(ms) || id.length === 0) throw new ValidationError("cursor", "not a cursor of this list");
  const createdAt = new Date(ms);
  const beyond = direction === "desc" ? "lt" : "gt";
  return { OR: [{ createdAt: { [beyond]: createdAt } }, { createdAt, id: { [beyond]: id } }] };
}
