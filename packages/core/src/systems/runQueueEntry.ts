import type { TaskRun } from "@runengine/database";
import { RunQueueError, type EnqueueMessage, type RunQueue } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import type { EngineResources } from "./resources.ts";

/**
 * Puts a run that has just become QUEUED into the fair queue and wakes waiting dispatchers. A run
 * with a TTL (`expiresAt`) gets its expiry job first, so that no queued run is without it.
 */
export async function enqueueRun(resources: EngineResources, run: TaskRun): Promise<void> {
  await enqueueRuns(resources, [run]);
}

/** The fields of a run that place it in the fair queue. */
type QueueFields = Pick<TaskRun, "organizationId" | "environmentId" | "queue" | "concurrencyKey" | "priority">;

/** The run queue's message for run `runId`; `attempt` counts the attempts it already had. */
export function queueMessage(runId: string, run: QueueFields, attempt?: number): EnqueueMessage {
  return {
    runId,
    orgId: run.organizationId,
    envId: run.environmentId,
    queue: run.queue,
    ...(run.concurrencyKey ? { concurrencyKey: run.concurrencyKey } : {}),
    priority: run.priority,
    ...(attempt === undefined ? {} : { attempt }),
  };
}

/** What queueing a run reads of it. */
export type QueueableRun = Pick<TaskRun, "id" | "organizationId" | "environmentId" | "queue" | "concurrencyKey" | "priority" | "expiresAt">;

/**
 * enqueueRun for many runs: their expiry jobs, then one queue call. The queue wakes waiting
 * dispatchers itself (createEngine's `onEnqueued`).
 */
export async function enqueueRuns(resources: EngineResources, runs: readonly QueueableRun[]): Promise<void> {
  if (runs.length === 0) return;
  await Promise.all(runs.filter((run) => run.expiresAt !== null).map((run) => resources.jobs.schedule("expireRun", { runId: run.id }, run.expiresAt!)));
  await resources.runQueue.enqueueMany(runs.map((run) => queueMessage(run.id, run)));
}

/**
 * Puts a run that left its worker (a retry, a hand-back, a hand-off never started) back into its
 * queue at `availableAt`, freeing its slot, and wakes waiting dispatchers. When the queue no longer
 * knows the run (Redis lost its data after the run was dequeued), the run is enqueued again from
 * Postgres's copy: a run that Postgres has QUEUED is never missing from the queue.
 */
export async function requeueRun(resources: EngineResources, run: TaskRun, availableAt: number): Promise<void> {
  try {
    await resources.runQueue.nack(run.id, { retryAt: availableAt });
  } catch (error) {
    if (!(error instanceof RunQueueError && error.code === "RUN_NOT_FOUND")) throw error;
    resources.logger.warn({ event: "requeue:lost-entry", runId: run.id }, "the run queue had lost the run; enqueued again from Postgres");
    await resources.runQueue.enqueue({ ...queueMessage(run.id, run, run.attemptNumber), availableAt });
  }
  await publishWorkAvailable(resources.redis, resources.relayKeys);
}

/**
 * Takes a run that will never be dequeued (cancelled, expired) out of the queue. A dispatcher may
 * have dequeued it a moment ago and be waiting for the lock we hold: then the entry is in flight,
 * and that dispatcher acks it when it finds the run finished.
 */
export async function removeFromQueue(runQueue: RunQueue, runId: string): Promise<void> {
  try {
    await runQueue.remove(runId);
  } catch (error) {
    if (!(error instanceof RunQueueError && error.code === "RUN_IN_FLIGHT")) throw error;
  }
}
