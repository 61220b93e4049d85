import { describe, expect, test } from "vitest";
import { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { InvalidTransitionError } from "../errors/runEngineError.ts";
import { assertTransition, canShowRunStatus, canTransition, executionStatuses, taskRunStatuses } from "./transitions.ts";

// Written out by hand from the issue, not derived from the table under test: every pair not listed
// here must be refused.
const allowedMoves = new Set([
  "initial>RUN_CREATED", "initial>DELAYED", "initial>QUEUED",
  "RUN_CREATED>QUEUED", "RUN_CREATED>DELAYED", "RUN_CREATED>FINISHED", "RUN_CREATED>RUN_CREATED",
  "DELAYED>DELAYED", "DELAYED>QUEUED", "DELAYED>FINISHED",
  "QUEUED>PENDING_EXECUTING", "QUEUED>RUN_CREATED", "QUEUED>QUEUED", "QUEUED>FINISHED",
  "PENDING_EXECUTING>EXECUTING", "PENDING_EXECUTING>QUEUED", "PENDING_EXECUTING>RUN_CREATED",
  "PENDING_EXECUTING>PENDING_CANCEL", "PENDING_EXECUTING>FINISHED",
  "EXECUTING>EXECUTING_WITH_WAITPOINTS", "EXECUTING>SUSPENDED", "EXECUTING>QUEUED", "EXECUTING>DELAYED",
  "EXECUTING>PENDING_CANCEL", "EXECUTING>FINISHED",
  "EXECUTING_WITH_WAITPOINTS>EXECUTING", "EXECUTING_WITH_WAITPOINTS>EXECUTING_WITH_WAITPOINTS",
  "EXECUTING_WITH_WAITPOINTS>SUSPENDED", "EXECUTING_WITH_WAITPOINTS>QUEUED", "EXECUTING_WITH_WAITPOINTS>DELAYED",
  "EXECUTING_WITH_WAITPOINTS>PENDING_CANCEL", "EXECUTING_WITH_WAITPOINTS>FINISHED",
  "SUSPENDED>QUEUED", "SUSPENDED>FINISHED",
  "PENDING_CANCEL>FINISHED",
]);

const shownRunStatuses = new Set([
  "RUN_CREATED:PENDING_VERSION", "RUN_CREATED:PENDING",
  "DELAYED:DELAYED", "DELAYED:RETRYING_AFTER_FAILURE",
  "QUEUED:PENDING", "QUEUED:RETRYING_AFTER_FAILURE",
  "PENDING_EXECUTING:DEQUEUED",
  "EXECUTING:EXECUTING",
  "EXECUTING_WITH_WAITPOINTS:EXECUTING",
  "SUSPENDED:WAITING_TO_RESUME",
  "PENDING_CANCEL:CANCELED",
  "FINISHED:COMPLETED_SUCCESSFULLY", "FINISHED:COMPLETED_WITH_ERRORS", "FINISHED:CANCELED", "FINISHED:SYSTEM_FAILURE",
  "FINISHED:CRASHED", "FINISHED:EXPIRED", "FINISHED:TIMED_OUT",
]);

const froms = [null, ...executionStatuses];
const movePairs = froms.flatMap((from) => executionStatuses.map((to) => [from, to] as const));
const statusPairs = executionStatuses.flatMap((status) => taskRunStatuses.map((runStatus) => [status, runStatus] as const));

test("the tables list exactly the schema's statuses", () => {
  expect([...executionStatuses].sort()).toEqual(Object.values(ExecutionStatus).sort());
  expect([...taskRunStatuses].sort()).toEqual(Object.values(TaskRunStatus).sort());
  expect(movePairs).toHaveLength(10 * 9);
  expect(statusPairs).toHaveLength(9 * 14);
});

describe("every (from, to) pair", () => {
  test.each(movePairs)("%s → %s", (from, to) => {
    const expected = allowedMoves.has(`${from ?? "initial"}>${to}`);
    expect(canTransition(from, to)).toBe(expected);

    // assertTransition agrees, with a run status the target may show so only the move is judged
    const runStatus = taskRunStatuses.find((status) => shownRunStatuses.has(`${to}:${status}`));
    if (runStatus === undefined) throw new Error(`no run status for ${to}`);
    const attempt = () => assertTransition("run_1", from, to, runStatus);
    if (expected) {
      expect(attempt).not.toThrow();
    } else {
      expect(attempt).toThrow(InvalidTransitionError);
    }
  });
});

describe("every (execution status, run status) pair", () => {
  test.each(statusPairs)("%s shows %s", (status, runStatus) => {
    const expected = shownRunStatuses.has(`${status}:${runStatus}`);
    expect(canShowRunStatus(status, runStatus)).toBe(expected);

    // an allowed move into `status` is still refused when it would show the wrong run status
    const from = froms.find((candidate) => allowedMoves.has(`${candidate ?? "initial"}>${status}`));
    if (from === undefined) throw new Error(`no way into ${status}`);
    const attempt = () => assertTransition("run_1", from, status, runStatus);
    if (expected) {
      expect(attempt).not.toThrow();
    } else {
      expect(attempt).toThrow(InvalidTransitionError);
    }
  });
});

test("InvalidTransitionError names the run and both statuses", () => {
  let caught: unknown;
  try {
    assertTransition("run_42", "FINISHED", "QUEUED", "PENDING");
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InvalidTransitionError);
  const error = caught as InvalidTransitionError;
  expect(error).toMatchObject({ code: "INVALID_TRANSITION", name: "InvalidTransitionError", runId: "run_42", from: "FINISHED", to: "QUEUED" });
  expect(error.message).toContain("FINISHED is final");

  expect(() => assertTransition("run_43", null, "EXECUTING", "EXECUTING")).toThrow(/\(initial\) → EXECUTING/);
});
