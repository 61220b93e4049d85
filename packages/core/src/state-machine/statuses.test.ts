import { describe, expect, test } from "vitest";
import type { ExecutionStatus } from "@runengine/database";
import { runStatusFromError, TaskRunErrorCode } from "./runStatusFromError.ts";
import {
  executionStatusesShowing,
  holdsConcurrency,
  isCancellable,
  isDequeueable,
  isExecuting,
  isFinalExecutionStatus,
  isFinalRunStatus,
  isOnWorker,
  isWaiting,
} from "./statuses.ts";
import { executionStatuses, executionTransitions, taskRunStatuses } from "./transitions.ts";

function statusesWhere(predicate: (status: ExecutionStatus) => boolean): ExecutionStatus[] {
  return executionStatuses.filter(predicate);
}

describe("predicates", () => {
  test("each predicate selects exactly the expected statuses", () => {
    expect(statusesWhere(isFinalExecutionStatus)).toEqual(["FINISHED"]);
    expect(statusesWhere(isExecuting)).toEqual(["EXECUTING", "EXECUTING_WITH_WAITPOINTS"]);
    expect(statusesWhere(isOnWorker)).toEqual(["PENDING_EXECUTING", "EXECUTING", "EXECUTING_WITH_WAITPOINTS", "PENDING_CANCEL"]);
    expect(statusesWhere(isDequeueable)).toEqual(["QUEUED"]);
    expect(statusesWhere(isWaiting)).toEqual(["EXECUTING_WITH_WAITPOINTS", "SUSPENDED"]);
    expect(statusesWhere(isCancellable)).toEqual(executionStatuses.filter((s) => s !== "FINISHED"));
    expect(taskRunStatuses.filter(isFinalRunStatus)).toEqual([
      "COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "CANCELED", "SYSTEM_FAILURE", "CRASHED", "EXPIRED", "TIMED_OUT",
    ]);
    expect(executionStatusesShowing("CANCELED")).toEqual(["PENDING_CANCEL", "FINISHED"]);
  });

  // The run queue counts a slot at dequeue and releases it on ack/nack; a transition table that
  // let a run reach a slot-holding status any other way would leak or double-count slots.
  test("a concurrency slot is only ever taken by a dequeue", () => {
    for (const from of executionStatuses) {
      for (const to of executionTransitions[from]) {
        if (!holdsConcurrency(from) && holdsConcurrency(to)) {
          expect({ from, to, dequeue: isDequeueable(from) }).toEqual({ from, to: "PENDING_EXECUTING", dequeue: true });
        }
      }
    }
  });

  test("every status can still reach FINISHED (no run is stuck for good)", () => {
    for (const start of executionStatuses) {
      const seen = new Set<ExecutionStatus>([start]);
      const frontier = [start];
      while (frontier.length > 0) {
        const status = frontier.pop() as ExecutionStatus;
        for (const next of executionTransitions[status]) {
          if (!seen.has(next)) {
            seen.add(next);
            frontier.push(next);
          }
        }
      }
      expect(seen.has("FINISHED"), start).toBe(true);
    }
  });
});

describe("runStatusFromError", () => {
  test.each([
    ["TASK_RUN_ERROR", "COMPLETED_WITH_ERRORS"],
    ["MAX_DURATION_EXCEEDED", "TIMED_OUT"],
    ["TASK_RUN_CANCELLED", "CANCELED"],
    ["TASK_RUN_CRASHED", "CRASHED"],
    ["TASK_RUN_STALLED", "SYSTEM_FAILURE"],
    ["HEARTBEAT_TIMEOUT", "SYSTEM_FAILURE"],
    ["TTL_EXPIRED", "EXPIRED"],
    ["INTERNAL_ERROR", "SYSTEM_FAILURE"],
  ] as const)("%s → %s", (code, status) => {
    expect(runStatusFromError(code)).toBe(status);
    expect(isFinalRunStatus(runStatusFromError(code))).toBe(true);
  });

  test("the list above covers every code, and an unknown code is an error rather than a status", () => {
    expect(Object.keys(TaskRunErrorCode)).toHaveLength(8);
    expect(() => runStatusFromError("NOT_A_CODE" as TaskRunErrorCode)).toThrow(TypeError);
  });
});
