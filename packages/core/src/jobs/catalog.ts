import { z } from "zod";
import { attemptResultSchema } from "../schemas/workerProtocol.ts";

/**
 * Every BullMQ job that passes between the roles: its queue, its payload schema and its retry
 * options. Producers and consumers go through `jobs/queues.ts`, which validates payloads with these
 * schemas on both sides. Each payload that acts on a run carries the snapshot id it was created
 * for: a handler whose snapshot is no longer the newest does nothing (the run has moved on).
 */
export const jobQueues = {
  finalizer: "runengine-finalizer",
  scheduler: "runengine-scheduler",
} as const;
export type JobQueueName = (typeof jobQueues)[keyof typeof jobQueues];

const runAtSnapshot = z.object({ runId: z.string().min(1), snapshotId: z.string().min(1) });

export const jobCatalog = {
  /** a worker reported an attempt's result (finalizer) */
  attemptResult: {
    queue: jobQueues.finalizer,
    schema: runAtSnapshot.extend({ workerId: z.string().min(1), result: attemptResultSchema }),
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
  /** a DELAYED run is due: queue it (scheduler; job id = run id, so a reschedule moves it) */
  enqueueDelayedRun: {
    queue: jobQueues.scheduler,
    schema: z.object({ runId: z.string().min(1) }),
    attempts: 10,
  },
  /** a run's TTL passed before it started (scheduler; job id = run id) */
  expireRun: {
    queue: jobQueues.scheduler,
    schema: z.object({ runId: z.string().min(1) }),
    attempts: 10,
  },
} as const;

export type JobName = keyof typeof jobCatalog;
export type JobPayload<N extends JobName> = z.output<(typeof jobCatalog)[N]["schema"]>;
