import type { ExecutionStatus, TaskRunStatus } from "@runengine/database";
import { RunEngineErrorCode } from "./codes.ts";

export interface RunEngineErrorOptions {
  cause?: unknown;
}

/**
 * The root of every error the engine throws on purpose. `instanceof RunEngineError` separates an
 * expected refusal (bad input, a stale report, a busy run) from a bug or an infrastructure failure;
 * `code` says which refusal it is.
 */
export class RunEngineError extends Error {
  override name = "RunEngineError";
  readonly code: RunEngineErrorCode;

  constructor(code: RunEngineErrorCode, message: string, options: RunEngineErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * Thrown when an operation asks a run to move along an edge the transition table does not have
 * (for example EXECUTING → RUN_CREATED), or to show a run status its execution status cannot show.
 * The snapshot system records the attempt as an invalid snapshot before throwing; the run is
 * unchanged. `from` is null when the refused status was meant to be the run's first.
 */
export class InvalidTransitionError extends RunEngineError {
  override name = "InvalidTransitionError";
  readonly runId: string;
  readonly from: ExecutionStatus | null;
  readonly to: ExecutionStatus;
  readonly runStatus: TaskRunStatus;

  constructor(
    details: { runId: string; from: ExecutionStatus | null; to: ExecutionStatus; runStatus: TaskRunStatus; reason: string },
    options?: RunEngineErrorOptions,
  ) {
    super(
      RunEngineErrorCode.INVALID_TRANSITION,
      `Run ${details.runId}: ${details.from ?? "(initial)"} → ${details.to} (${details.runStatus}) refused: ${details.reason}`,
      options,
    );
    this.runId = details.runId;
    this.from = details.from;
    this.to = details.to;
    this.runStatus = details.runStatus;
  }
}

/**
 * Thrown when an operation names the snapshot it acted on (a worker's report, a job's payload) and
 * that snapshot is no longer the run's newest valid one: the run has moved on (a late heartbeat, a
 * duplicate completion, a checkpoint after a cancel). Nothing was written. Also thrown when the
 * run's newest snapshot changed between the read and the write, which only happens if the run lock
 * was lost in between.
 */
export class StaleSnapshotError extends RunEngineError {
  override name = "StaleSnapshotError";
  readonly runId: string;
  readonly expectedSnapshotId: string;
  readonly latestSnapshotId: string | null;

  constructor(details: { runId: string; expectedSnapshotId: string; latestSnapshotId: string | null }, options?: RunEngineErrorOptions) {
    super(
      RunEngineErrorCode.STALE_SNAPSHOT,
      `Run ${details.runId}: snapshot ${details.expectedSnapshotId} is stale, the newest is ${details.latestSnapshotId ?? "(none)"}`,
      options,
    );
    this.runId = details.runId;
    this.expectedSnapshotId = details.expectedSnapshotId;
    this.latestSnapshotId = details.latestSnapshotId;
  }
}

/**
 * Thrown by `RunLocker.lock` when the lock on `resource` could not be taken within the configured
 * number of retries or acquisition timeout, because another operation held it all along (or Redis
 * did not answer; see `cause`). Nothing was run. Safe to retry later.
 */
export class LockAcquisitionTimeoutError extends RunEngineError {
  override name = "LockAcquisitionTimeoutError";
  readonly resource: string;
  readonly waitedMs: number;
  readonly attempts: number;

  constructor(details: { resource: string; waitedMs: number; attempts: number }, options?: RunEngineErrorOptions) {
    super(
      RunEngineErrorCode.LOCK_ACQUISITION_TIMEOUT,
      `Could not lock ${details.resource} after ${details.attempts} attempts in ${Math.round(details.waitedMs)} ms`,
      options,
    );
    this.resource = details.resource;
    this.waitedMs = details.waitedMs;
    this.attempts = details.attempts;
  }
}

/**
 * Thrown when input or options fail validation before anything is changed. `field` names the
 * offending field (dotted path) so the api can answer 400 with it.
 */
export class ValidationError extends RunEngineError {
  override name = "ValidationError";
  readonly field: string;

  constructor(field: string, message: string, options?: RunEngineErrorOptions) {
    super(RunEngineErrorCode.VALIDATION, `${field}: ${message}`, options);
    this.field = field;
  }
}

/** Thrown when an operation names an entity (a run, a snapshot...) that does not exist. */
export class NotFoundError extends RunEngineError {
  override name = "NotFoundError";
  readonly entity: string;
  readonly id: string;

  constructor(entity: string, id: string, options?: RunEngineErrorOptions) {
    super(RunEngineErrorCode.NOT_FOUND, `${entity} ${id} not found`, options);
    this.entity = entity;
    this.id = id;
  }
}

/**
 * Thrown when a create would duplicate something unique (an environment's name in its
 * organization). `field` names what is taken.
 */
export class ConflictError extends RunEngineError {
  override name = "ConflictError";
  readonly field: string;

  constructor(field: string, message: string, options?: RunEngineErrorOptions) {
    super(RunEngineErrorCode.CONFLICT, message, options);
    this.field = field;
  }
}

/**
 * Thrown (by task code, or by the engine about an attempt) for a failure that another attempt
 * cannot fix, such as invalid payload: the finalizer finishes the run instead of retrying it.
 */
export class NonRetryableError extends RunEngineError {
  override name = "NonRetryableError";

  constructor(message: string, options?: RunEngineErrorOptions) {
    super(RunEngineErrorCode.NON_RETRYABLE, message, options);
  }
}

/**
 * Thrown by `parseConfig` at process start when environment variables are missing or invalid, so
 * the process exits before doing anything. `variable` is the first bad one; `variables` all of them.
 */
export class ConfigError extends RunEngineError {
  override name = "ConfigError";
  readonly variable: string;
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; message: string }[], options?: RunEngineErrorOptions) {
    const first = problems[0];
    if (first === undefined) throw new TypeError("ConfigError needs at least one problem");
    super(RunEngineErrorCode.CONFIG, `Invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join("; ")}`, options);
    this.variable = first.variable;
    this.variables = problems.map((p) => p.variable);
  }
}
