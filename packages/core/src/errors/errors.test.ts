import { expect, test } from "vitest";
import { RunEngineErrorCode } from "./codes.ts";
import {
  ConfigError,
  ConflictError,
  InvalidTransitionError,
  LockAcquisitionTimeoutError,
  NonRetryableError,
  NotFoundError,
  RunEngineError,
  StaleSnapshotError,
  ValidationError,
} from "./runEngineError.ts";

const cause = new Error("underlying");
const examples = [
  [new InvalidTransitionError({ runId: "r", from: "QUEUED", to: "SUSPENDED", runStatus: "WAITING_TO_RESUME", reason: "no" }, { cause }), "InvalidTransitionError", "INVALID_TRANSITION"],
  [new StaleSnapshotError({ runId: "r", expectedSnapshotId: "s1", latestSnapshotId: "s2" }, { cause }), "StaleSnapshotError", "STALE_SNAPSHOT"],
  [new LockAcquisitionTimeoutError({ resource: "run:r", waitedMs: 5000, attempts: 51 }, { cause }), "LockAcquisitionTimeoutError", "LOCK_ACQUISITION_TIMEOUT"],
  [new ValidationError("options.delay", "must be positive", { cause }), "ValidationError", "VALIDATION"],
  [new NotFoundError("TaskRun", "r", { cause }), "NotFoundError", "NOT_FOUND"],
  [new ConflictError("name", "an environment named dev exists", { cause }), "ConflictError", "CONFLICT"],
  [new NonRetryableError("bad payload", { cause }), "NonRetryableError", "NON_RETRYABLE"],
  [new ConfigError([{ variable: "REDIS_URL", message: "invalid" }], { cause }), "ConfigError", "CONFIG"],
] as const;

test.each(examples)("%s has its name, code and cause, and is a RunEngineError", (error, name, code) => {
  expect(error).toBeInstanceOf(RunEngineError);
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe(name);
  expect(error.code).toBe(code);
  expect(error.cause).toBe(cause);
  expect(String(error)).toContain(name);
});

test("every code has exactly one error class", () => {
  expect(examples.map(([, , code]) => code).sort()).toEqual(Object.values(RunEngineErrorCode).sort());
});

test("errors carry the details callers act on", () => {
  expect(examples[0][0]).toMatchObject({ runId: "r", from: "QUEUED", to: "SUSPENDED", runStatus: "WAITING_TO_RESUME" });
  expect(examples[1][0]).toMatchObject({ expectedSnapshotId: "s1", latestSnapshotId: "s2" });
  expect(examples[2][0]).toMatchObject({ resource: "run:r", attempts: 51 });
  expect(examples[3][0]).toMatchObject({ field: "options.delay", message: "options.delay: must be positive" });
  expect(examples[5][0]).toMatchObject({ field: "name" });
  expect(examples[7][0]).toMatchObject({ variable: "REDIS_URL", variables: ["REDIS_URL"] });
  expect(new NotFoundError("TaskRun", "r").cause).toBeUndefined();
});
