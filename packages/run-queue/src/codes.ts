import { RunQueueError } from "./errors.ts";

/**
 * Numeric codes the Lua scripts return, mirrored by `lua/includes/codes.lua` (tests/codes.test.ts
 * keeps the two in step). Non-negative codes are outcomes; negative codes are refusals.
 */
export const ScriptCode = {
  /** The operation changed nothing because it was already in the requested state. */
  NOOP: 0,
  OK: 1,
  /** enqueue only: a released run was queued again. */
  REQUEUED: 2,
  /** reacquire only: a limit keeps the run from taking a slot now. */
  BLOCKED: 3,
  RUN_NOT_FOUND: -1,
  RUN_NOT_IN_FLIGHT: -2,
  RUN_NOT_RELEASED: -3,
  RUN_IN_FLIGHT: -4,
  RUN_NOT_DEAD_LETTERED: -5,
} as const;

export type ScriptCodeName = keyof typeof ScriptCode;

/**
 * The one conversion from a negative script code to a typed error. Thrown by the operation that got
 * the code:
 * - RUN_NOT_FOUND: the run id is unknown (never enqueued, or already acked/removed);
 * - RUN_NOT_IN_FLIGHT: nack/release/extend of a run that no consumer holds;
 * - RUN_NOT_RELEASED: reacquire of a run that did not release its slot;
 * - RUN_IN_FLIGHT: remove of a run a consumer holds (ack it instead);
 * - RUN_NOT_DEAD_LETTERED: redrive of a run that is not in the dead-letter set.
 */
export function errorFromScriptCode(code: number, runId: string, operation: string): RunQueueError {
  switch (code) {
    case ScriptCode.RUN_NOT_FOUND:
      return new RunQueueError("RUN_NOT_FOUND", `${operation}: run ${runId} is not in the queue`, { runId });
    case ScriptCode.RUN_NOT_IN_FLIGHT:
      return new RunQueueError("RUN_NOT_IN_FLIGHT", `${operation}: run ${runId} is not in flight`, { runId });
    case ScriptCode.RUN_NOT_RELEASED:
      return new RunQueueError("RUN_NOT_RELEASED", `${operation}: run ${runId} has not released its slot`, { runId });
    case ScriptCode.RUN_IN_FLIGHT:
      return new RunQueueError("RUN_IN_FLIGHT", `${operation}: run ${runId} is in flight; ack it instead`, { runId });
    case ScriptCode.RUN_NOT_DEAD_LETTERED:
      return new RunQueueError("RUN_NOT_DEAD_LETTERED", `${operation}: run ${runId} is not dead-lettered`, { runId });
    default:
      return new RunQueueError("UNEXPECTED_REPLY", `${operation}: unknown script code ${code} for run ${runId}`, { runId });
  }
}
