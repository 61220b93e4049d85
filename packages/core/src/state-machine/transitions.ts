import type { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { InvalidTransitionError } from "../errors/runEngineError.ts";

// Type-only imports of the Prisma enums: the state machine is plain data, usable (and testable)
// without loading the database client. The Record types below make the compiler check that every
// status of the schema appears.

/** The statuses a run may start in (its first snapshot has no previous one). */
export const initialExecutionStatuses: readonly ExecutionStatus[] = ["RUN_CREATED", "DELAYED", "QUEUED"];

/**
 * The execution state machine: for each status, the statuses a run may move to next. This table
 * is the only definition of a legal move; everything that changes a run goes through
 * `assertTransition`. Self-edges are listed where re-entering the same status means something:
 * a reschedule (DELAYED), a requeue (QUEUED), a version becoming unavailable again (RUN_CREATED),
 * new waitpoints while blocked (EXECUTING_WITH_WAITPOINTS).
 */
export const executionTransitions: Readonly<Record<ExecutionStatus, readonly ExecutionStatus[]>> = {
  RUN_CREATED: ["QUEUED", "DELAYED", "FINISHED", "RUN_CREATED"],
  DELAYED: ["DELAYED", "QUEUED", "FINISHED"],
  // RUN_CREATED: parked because no deployed worker has the task yet (PENDING_VERSION)
  QUEUED: ["PENDING_EXECUTING", "RUN_CREATED", "QUEUED", "FINISHED"],
  // QUEUED: the worker never started the attempt (heartbeat overdue); RUN_CREATED: no version
  PENDING_EXECUTING: ["EXECUTING", "QUEUED", "RUN_CREATED", "PENDING_CANCEL", "FINISHED"],
  // QUEUED / DELAYED: a failed attempt retried through the queue, now or after a backoff
  EXECUTING: ["EXECUTING_WITH_WAITPOINTS", "SUSPENDED", "QUEUED", "DELAYED", "PENDING_CANCEL", "FINISHED"],
  EXECUTING_WITH_WAITPOINTS: ["EXECUTING", "EXECUTING_WITH_WAITPOINTS", "SUSPENDED", "QUEUED", "DELAYED", "PENDING_CANCEL", "FINISHED"],
  // QUEUED: every blocking waitpoint completed, the run goes back to a worker to be restored
  SUSPENDED: ["QUEUED", "FINISHED"],
  PENDING_CANCEL: ["FINISHED"],
  FINISHED: [],
};

/** Every execution status, in lifecycle order (for iteration: tests, docs, metrics). */
export const executionStatuses = Object.keys(executionTransitions) as readonly ExecutionStatus[];

const runStatusIsFinal: Readonly<Record<TaskRunStatus, boolean>> = {
  DELAYED: false,
  PENDING: false,
  PENDING_VERSION: false,
  DEQUEUED: false,
  EXECUTING: false,
  WAITING_TO_RESUME: false,
  RETRYING_AFTER_FAILURE: false,
  COMPLETED_SUCCESSFULLY: true,
  COMPLETED_WITH_ERRORS: true,
  CANCELED: true,
  SYSTEM_FAILURE: true,
  CRASHED: true,
  EXPIRED: true,
  TIMED_OUT: true,
};

/** Every user-facing run status. */
export const taskRunStatuses = Object.keys(runStatusIsFinal) as readonly TaskRunStatus[];

/** The user-facing statuses that are final: a run showing one of them never changes again. */
export const finalRunStatuses: readonly TaskRunStatus[] = taskRunStatuses.filter((status) => runStatusIsFinal[status]);

/**
 * For each execution status, the run statuses a snapshot in it may show users. This keeps the two
 * statuses of a run consistent: a run can not be EXECUTING for users while the engine has it queued.
 * PENDING_CANCEL shows CANCELED at once, because the user's decision is final even while the
 * worker is still being told to stop.
 */
export const runStatusesByExecutionStatus: Readonly<Record<ExecutionStatus, readonly TaskRunStatus[]>> = {
  RUN_CREATED: ["PENDING_VERSION", "PENDING"],
  DELAYED: ["DELAYED", "RETRYING_AFTER_FAILURE"],
  QUEUED: ["PENDING", "RETRYING_AFTER_FAILURE"],
  PENDING_EXECUTING: ["DEQUEUED"],
  EXECUTING: ["EXECUTING"],
  EXECUTING_WITH_WAITPOINTS: ["EXECUTING"],
  SUSPENDED: ["WAITING_TO_RESUME"],
  PENDING_CANCEL: ["CANCELED"],
  FINISHED: finalRunStatuses,
};

/** True when a run in `from` (null: a run not created yet) may move to `to`. */
export function canTransition(from: ExecutionStatus | null, to: ExecutionStatus): boolean {
  const allowed = from === null ? initialExecutionStatuses : executionTransitions[from];
  return allowed.includes(to);
}

/** True when a snapshot in execution status `executionStatus` may show `runStatus` to users. */
export function canShowRunStatus(executionStatus: ExecutionStatus, runStatus: TaskRunStatus): boolean {
  return runStatusesByExecutionStatus[executionStatus].includes(runStatus);
}

/**
 * Throws `InvalidTransitionError` unless a run in `from` (null: its first snapshot) may move to
 * `to` while showing `runStatus`. The one gate every status change passes.
 */
export function assertTransition(runId: string, from: ExecutionStatus | null, to: ExecutionStatus, runStatus: TaskRunStatus): void {
  if (!canTransition(from, to)) {
    const allowed = from === null ? initialExecutionStatuses : executionTransitions[from];
    const reason = allowed.length === 0 ? `${from} is final` : `allowed next: ${allowed.join(", ")}`;
    throw new InvalidTransitionError({ runId, from, to, runStatus, reason });
  }
  if (!canShowRunStatus(to, runStatus)) {
    const reason = `${to} shows only ${runStatusesByExecutionStatus[to].join(", ")}`;
    throw new InvalidTransitionError({ runId, from, to, runStatus, reason });
  }
}
