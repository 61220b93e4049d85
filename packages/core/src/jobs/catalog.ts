import { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { z } from "zod";
import { attemptResultSchema } from "../schemas/workerProtocol.ts";
import type { SnapshotView } from "../snapshots/types.ts";

/**
 * Every BullMQ job that passes between the roles: its queue, its payload schema and its retry
 * options. Producers and consumers go through `jobs/queues.ts`, which validates payloads with these
 * schemas on both sides. Each payload that acts on a run carries the snapshot id it was created
 * for: a handler whose snapshot is no longer the newest does nothing (the run has moved on).
 * An entry with a `jobId` has one job per subject at a time (BullMQ job ids are unique per queue;
 * ':' is not allowed in them): `JobProducer.schedule` moves it, `unschedule` removes it.
 */
export const jobQueues = {
  finalizer: "runengine-finalizer",
  scheduler: "runengine-scheduler",
} as const;
export type JobQueueName = (typeof jobQueues)[keyof typeof jobQueues];

const runAtSnapshot = z.object({ runId: z.string().min(1), snapshotId: z.string().min(1) });

/** A run's newest valid snapshot as the producer of a job read it. */
const snapshotView: z.ZodType<SnapshotView> = z.object({
  id: z.string().min(1),
  runId: z.string().min(1),
  environmentId: z.string().min(1),
  executionStatus: z.enum(ExecutionStatus),
  runStatus: z.enum(TaskRunStatus),
  attemptNumber: z.number().int().nullable(),
  workerId: z.string().nullable(),
  checkpointId: z.string().nullable(),
});

export const jobCatalog = {
  /**
   * workers reported attempts' results (finalizer): the reports the api accepted while its previous
   * job of this kind was being added travel together. Applying a result twice does nothing (its
   * snapshot is no longer the newest), so a retried job repeats only what did not apply. `seen` is
   * the run's newest snapshot as the api read it to accept the report: the finalizer decides from it
   * without reading it again, its write fenced on it (absent in jobs of earlier versions).
   */
  attemptResults: {
    queue: jobQueues.finalizer,
    schema: z.object({
      results: z.array(runAtSnapshot.extend({ workerId: z.string().min(1), result: attemptResultSchema, seen: snapshotView.optional() })).min(1),
    }),
    attempts: 10,
  },
  /** an executing attempt stopped sending heartbeats (finalizer) */
  attemptStalled: {
    queue: jobQueues.finalizer,
    schema: runAtSnapshot,
    attempts: 10,
  },
  /** finish a run whose cancellation the worker never acknowledged (finalizer) */
  finishCancel: {
    queue: jobQueues.finalizer,
    schema: runAtSnapshot.extend({ reason: z.string() }),
    attempts: 10,
  },
  /**
   * a waitpoint blocking this run completed: continue it if nothing else blocks it (finalizer; one
   * job per run and waitpoint, so a completion never merges into a job already running)
   */
  continueRunIfUnblocked: {
    queue: jobQueues.finalizer,
    schema: z.object({ runId: z.string().min(1) }),
    attempts: 10,
  },
  /** the next chunk of a bulk cancel or replay, after `cursor` (finalizer; job id = action + cursor) */
  bulkActionChunk: {
    queue: jobQueues.finalizer,
    schema: z.object({ bulkActionId: z.string().min(1), cursor: z.string().min(1).nullable() }),
    attempts: 10,
  },
  /** a DATETIME waitpoint's instant came (scheduler; job id = waitpoint id) */
  completeDateTimeWaitpoint: {
    queue: jobQueues.scheduler,
    schema: z.object({ waitpointId: z.string().min(1) }),
    attempts: 10,
  },
  /** a MANUAL waitpoint (token) reached its timeout uncompleted (scheduler; job id = waitpoint id) */
  timeoutWaitpointToken: {
    queue: jobQueues.scheduler,
    schema: z.object({ waitpointId: z.string().min(1) }),
    attempts: 10,
  },
  /** a DELAYED run is due: queue it (scheduler; job id = run id, so a reschedule moves it) */
  enqueueDelayedRun: {
    queue: jobQueues.scheduler,
    schema: z.object({ runId: z.string().min(1) }),
    attempts: 10,
    jobId: (payload: { runId: string }) => payload.runId,
  },
  /**
   * a run's TTL passed before it was dequeued (scheduler). Its own id, because a delayed run arms
   * its TTL from inside its enqueueDelayedRun job, which still holds the run id.
   */
  expireRun: {
    queue: jobQueues.scheduler,
    schema: z.object({ runId: z.string().min(1) }),
    attempts: 10,
    jobId: (payload: { runId: string }) => `ttl-${payload.runId}`,
  },
  /** a schedule's tick is due: trigger its run and arm the next tick (scheduler; job id = schedule + tick) */
  fireScheduleTick: {
    queue: jobQueues.scheduler,
    schema: z.object({ scheduleId: z.string().min(1), tickMs: z.number().int().nonnegative() }),
    attempts: 10,
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.output<(typeof jobCatalog)[N]["schema"]>;
