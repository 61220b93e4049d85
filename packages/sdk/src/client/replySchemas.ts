import { z } from "zod";
import { runStatuses } from "../runStatus.ts";
import type { Run, RunSnapshot } from "./runTypes.ts";

/**
 * How the client reads the api's replies. Objects are loose: fields the api adds later pass
 * through untouched, and only what the SDK types promise is checked.
 */

const date = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const optionalDate = date.nullish().transform((d) => d ?? null);

export const triggerReplySchema = z.object({ id: z.string(), isCached: z.boolean().default(false) });

export const batchTriggerReplySchema = z.object({ batchId: z.string(), runs: z.array(z.object({ id: z.string() })) });

export const batchSchema = z.looseObject({
  id: z.string(),
  taskId: z.string(),
  status: z.enum(["PENDING", "COMPLETED"]),
  runCount: z.number().int(),
  runsByStatus: z.partialRecord(z.enum(runStatuses), z.number().int()),
  createdAt: z.coerce.date(),
});
export type Batch = z.output<typeof batchSchema>;

export const runErrorSchema = z.looseObject({ name: z.string(), message: z.string(), stack: z.string().optional() });

export const runSchema: z.ZodType<Run> = z.looseObject({
  id: z.string(),
  taskId: z.string(),
  status: z.enum(runStatuses),
  attemptCount: z.number().int(),
  payload: z.unknown(),
  output: z.unknown().transform((o) => o ?? null),
  error: runErrorSchema.nullish().transform((e) => e ?? null),
  queue: z.string().optional(),
  tags: z.array(z.string()).default([]),
  metadata: z.unknown(),
  createdAt: date,
  startedAt: optionalDate,
  completedAt: optionalDate,
  delayUntil: optionalDate,
  expiresAt: optionalDate,
});

export const runPageSchema = z.object({ data: z.array(runSchema), nextCursor: z.string().nullish().transform((c) => c ?? null) });

export const snapshotSchema: z.ZodType<RunSnapshot> = z.looseObject({
  id: z.string(),
  executionStatus: z.string(),
  runStatus: z.enum(runStatuses),
  description: z.string(),
  attemptNumber: z.number().int().nullish().transform((n) => n ?? null),
  previousSnapshotId: z.string().nullish().transform((id) => id ?? null),
  createdAt: date,
});

export const historyReplySchema = z.object({ snapshots: z.array(snapshotSchema) });

export const cancelReplySchema = z.object({ id: z.string(), status: z.enum(runStatuses) });
