import type { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { executionStatuses, executionTransitions, finalRunStatuses, runStatusesByExecutionStatus } from "./transitions.ts";

/*
 * Predicates over the tables in transitions.ts, read from the tables wherever the table carries
 * the meaning, so that editing the table moves the predicates with it. statuses.test.ts checks the
 * properties the rest of the engine relies on (a slot is only taken at dequeue, and so on).
 */

/** A final execution status: the table lets nothing follow it. */
export function isFinalExecutionStatus(status: ExecutionStatus): boolean {
  return executionTransitions[status].length === 0;
}

/** A final user-facing status: one a FINISHED snapshot shows. */
export function isFinalRunStatus(status: TaskRunStatus): boolean {
  return finalRunStatuses.includes(status);
}

/** Task code is running on a worker: the statuses users see as EXECUTING. */
export function isExecuting(status: ExecutionStatus): boolean {
  return runStatusesByExecutionStatus[status].includes("EXECUTING");
}

/**
 * A worker has the run: it was handed over (PENDING_EXECUTING), runs it, or has not yet stopped it
 * after a cancel (PENDING_CANCEL). Heartbeats are expected in exactly these statuses.
 */
export function isOnWorker(status: ExecutionStatus): boolean {
  return status === "PENDING_EXECUTING" || status === "PENDING_CANCEL" || isExecuting(status);
}

/**
 * The run occupies a concurrency slot in the run queue. A slot is taken at dequeue and kept while a
 * worker has the run; a checkpoint (SUSPENDED) gives it back, which is the point of suspending.
 */
export function holdsConcurrency(status: ExecutionStatus): boolean {
  return isOnWorker(status);
}

/** The dispatcher may take the run from the queue: it has an edge to PENDING_EXECUTING. */
export function isDequeueable(status: ExecutionStatus): boolean {
  return executionTransitions[status].includes("PENDING_EXECUTING");
}

/** The run is blocked by waitpoints, on its worker or checkpointed. */
export function isWaiting(status: ExecutionStatus): boolean {
  return status === "EXECUTING_WITH_WAITPOINTS" || status === "SUSPENDED";
}

/** A cancel can still act on the run: it has an edge to FINISHED or PENDING_CANCEL. */
export function isCancellable(status: ExecutionStatus): boolean {
  const next = executionTransitions[status];
  return next.includes("FINISHED") || next.includes("PENDING_CANCEL");
}

/** The execution statuses whose snapshots may show `runStatus` (the run-status table read backwards). */
export function executionStatusesShowing(runStatus: TaskRunStatus): ExecutionStatus[] {
  return executionStatuses.filter((status) => runStatusesByExecutionStatus[status].includes(runStatus));
}
