import { z } from "zod";
import { declaredScheduleSchema } from "./schedule.ts";
import { identifierSchema } from "./trigger.ts";
import { resumeFromCheckpointSchema } from "./waitpoint.ts";

/**
 * The worker protocol: what a worker process (packages/sdk) sends the engine and gets back, over
 * HTTP long-poll at the api's address. Every report about a run names the snapshot it acted on;
 * the engine refuses a report whose snapshot is no longer the run's newest (a stale worker).
 */

export const retryPolicySchema = z.object({
  maxAttempts: z.number().int().min(1).max(250),
  factor: z.number().min(1),
  minTimeoutInMs: z.number().int().min(0),
  maxTimeoutInMs: z.number().int().min(0),
  randomize: z.boolean(),
});
export type RetryPolicy = z.output<typeof retryPolicySchema>;

export const taskManifestSchema = z.object({
  id: identifierSchema,
  queue: z.object({ name: identifierSchema, concurrencyLimit: z.number().int().min(0).optional() }),
  retry: retryPolicySchema,
  maxDurationSeconds: z.number().positive().optional(),
  /** a declarative schedule (`schedules.task`): synced to the environment when this version registers */
  schedule: declaredScheduleSchema.optional(),
});
export type TaskManifest = z.output<typeof taskManifestSchema>;

export const registerWorkerRequestSchema = z.object({
  /** the deployment version; runs resume only on workers of the version they started on */
  version: z.string().min(1).max(64),
  name: z.string().min(1).max(128),
  concurrency: z.number().int().min(1).max(10_000),
  tasks: z.array(taskManifestSchema).min(1).max(1_000),
});
export const registerWorkerResponseSchema = z.object({ workerId: z.string(), deploymentId: z.string() });

export const dequeueRequestSchema = z.object({
  workerId: z.string().min(1),
  /** free slots: the engine hands out at most this many runs, so nothing waits in a buffer */
  maxRuns: z.number().int().min(1).max(10_000),
  /** how long the request may wait for work (long poll) */
  waitMs: z.number().int().min(0).max(60_000).default(20_000),
});

export const dequeuedRunSchema = z.object({
  runId: z.string(),
  snapshotId: z.string(),
  taskId: z.string(),
  payload: z.unknown(),
  queue: z.string(),
  attemptNumber: z.number().int(),
  tags: z.array(z.string()),
  metadata: z.unknown(),
  createdAt: z.coerce.date(),
  maxDurationSeconds: z.number().optional(),
  environment: z.object({ id: z.string(), name: z.string(), type: z.enum(["DEVELOPMENT", "STAGING", "PRODUCTION"]) }),
  deployment: z.object({ id: z.string(), version: z.string() }),
  /** set when the run was checkpointed: the worker replays the task with this journal */
  resume: resumeFromCheckpointSchema.optional(),
});
export type DequeuedRun = z.output<typeof dequeuedRunSchema>;
export const dequeueResponseSchema = z.object({ runs: z.array(dequeuedRunSchema) });

export const snapshotReportSchema = z.object({ workerId: z.string().min(1), snapshotId: z.string().min(1) });

export const startAttemptResponseSchema = z.object({ snapshotId: z.string(), attemptNumber: z.number().int() });

export const serializedErrorSchema = z.object({
  name: z.string().max(1_000),
  message: z.string().max(100_000),
  stack: z.string().max(100_000).optional(),
  retryable: z.boolean().default(true),
});

export const attemptResultSchema = z.discriminatedUnion("ok", [
  // a task that returns nothing sends no output (JSON has no undefined)
  z.object({ ok: z.literal(true), output: z.unknown().optional() }),
  z.object({
    ok: z.literal(false),
    error: serializedErrorSchema,
    /** why the attempt ended, when the worker knows better than "the task threw" */
    reason: z.enum(["TASK_ERROR", "MAX_DURATION_EXCEEDED", "CANCELLED", "WORKER_SHUTDOWN", "CRASHED"]).default("TASK_ERROR"),
  }),
]);
export type AttemptResult = z.output<typeof attemptResultSchema>;

export const completeAttemptRequestSchema = snapshotReportSchema.extend({ result: attemptResultSchema });

/**
 * Several runs' starts or results in one request (at most `maxRunsPerReport`): a worker sends the
 * calls its attempts make at the same moment together. Each run is answered on its own, in the
 * order asked: what the single-run route would have answered, as an item.
 */
export const maxRunsPerReport = 100;
const runReportSchema = snapshotReportSchema.extend({ runId: z.string().min(1) });
export const startAttemptsRequestSchema = z.object({ runs: z.array(runReportSchema).min(1).max(maxRunsPerReport) });
export const completeAttemptsRequestSchema = z.object({ runs: z.array(runReportSchema.extend({ result: attemptResultSchema })).min(1).max(maxRunsPerReport) });
/** A run of a batched request that was refused or failed: the status and error the single route gives. */
export const reportItemErrorSchema = z.object({
  runId: z.string(),
  ok: z.literal(false),
  status: z.number().int(),
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ReportItemError = z.output<typeof reportItemErrorSchema>;
export const startAttemptsResponseSchema = z.object({
  runs: z.array(z.union([startAttemptResponseSchema.extend({ runId: z.string(), ok: z.literal(true) }), reportItemErrorSchema])),
});
export const completeAttemptsResponseSchema = z.object({
  runs: z.array(z.union([z.object({ runId: z.string(), ok: z.literal(true) }), reportItemErrorSchema])),
});

/** The answer to a heartbeat: what the worker should do with the run it reported on. */
export const heartbeatResponseSchema = z.object({
  /** continue: keep running; cancel: abort the task; stale: another attempt owns the run, stop */
  action: z.enum(["continue", "cancel", "stale"]),
  snapshotId: z.string(),
});
