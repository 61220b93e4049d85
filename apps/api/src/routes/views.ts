import type { ExecutionSnapshot, TaskRun } from "@runengine/database";

/** A run as the API shows it: the user-facing fields, none of the engine's bookkeeping. */
export function runView(run: TaskRun) {
  return {
    id: run.id,
    taskId: run.taskIdentifier,
    status: run.status,
    attemptCount: run.attemptNumber,
    payload: run.payload,
    output: run.output,
    error: run.error,
    queue: run.queue,
    concurrencyKey: run.concurrencyKey,
    priority: run.priority,
    tags: run.tags,
    metadata: run.metadata,
    idempotencyKey: run.idempotencyKey,
    batchId: run.batchId,
    replayedFromRunId: run.replayedFromRunId,
    /** a DELAYED run is queued at this instant */
    delayUntil: run.delayUntil,
    ttl: run.ttl,
    /** a queued run not dequeued by then expires */
    expiresAt: run.expiresAt,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    completedAt: run.completedAt,
    updatedAt: run.updatedAt,
  };
}

/** One entry of a run's state history. */
export function snapshotView(snapshot: ExecutionSnapshot) {
  return {
    id: snapshot.id,
    executionStatus: snapshot.executionStatus,
    runStatus: snapshot.runStatus,
    description: snapshot.description,
    attemptNumber: snapshot.attemptNumber,
    workerId: snapshot.workerId,
    previousSnapshotId: snapshot.previousSnapshotId,
    createdAt: snapshot.createdAt,
  };
}
