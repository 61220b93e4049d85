import type { TaskRunStatus } from "@runengine/database";
import { assertNever } from "../utils/assertNever.ts";

/**
 * Why a run ended in failure, as the finalizer records it. Workers report TASK_RUN_ERROR,
 * MAX_DURATION_EXCEEDED, TASK_RUN_CANCELLED and TASK_RUN_CRASHED; the engine itself raises the others when it finds
 * a run in trouble (a dead worker, an overdue heartbeat, an expired TTL, its own failure).
 */
export const TaskRunErrorCode = {
  /** the task's code threw and no attempt is left (or the error was non-retryable) */
  TASK_RUN_ERROR: "TASK_RUN_ERROR",
  /** the attempt ran longer than the task's maxDuration */
  MAX_DURATION_EXCEEDED: "MAX_DURATION_EXCEEDED",
  /** a user cancelled the run */
  TASK_RUN_CANCELLED: "TASK_RUN_CANCELLED",
  /** the worker process died during the attempt (exit, signal, out of memory) */
  TASK_RUN_CRASHED: "TASK_RUN_CRASHED",
  /** the attempt was handed to a worker that never started it, past every requeue */
  TASK_RUN_STALLED: "TASK_RUN_STALLED",
  /** the executing attempt stopped sending heartbeats, past every retry */
  HEARTBEAT_TIMEOUT: "HEARTBEAT_TIMEOUT",
  /** the run's TTL passed before it started */
  TTL_EXPIRED: "TTL_EXPIRED",
  /** the engine failed (a bug, corrupt state): not the task's fault */
  INTERNAL_ERROR: "INTERNAL_ERROR",
} as const;

export type TaskRunErrorCode = (typeof TaskRunErrorCode)[keyof typeof TaskRunErrorCode];

/**
 * The final status users see for a run that ended with `code`. The split that matters: the task's
 * own failures (COMPLETED_WITH_ERRORS, TIMED_OUT) versus its process dying (CRASHED) versus the
 * engine losing track of it (SYSTEM_FAILURE), so that alerting can page the right people.
 */
export function runStatusFromError(code: TaskRunErrorCode): TaskRunStatus {
  switch (code) {
    case "TASK_RUN_ERROR":
      return "COMPLETED_WITH_ERRORS";
    case "MAX_DURATION_EXCEEDED":
      return "TIMED_OUT";
    case "TASK_RUN_CANCELLED":
      return "CANCELED";
    case "TASK_RUN_CRASHED":
      return "CRASHED";
    case "TASK_RUN_STALLED":
    case "HEARTBEAT_TIMEOUT":
    case "INTERNAL_ERROR":
      return "SYSTEM_FAILURE";
    case "TTL_EXPIRED":
      return "EXPIRED";
    default:
      return assertNever(code, "task run error code");
  }
}
