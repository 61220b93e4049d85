/** Stable codes of every error the run queue throws. */
export type RunQueueErrorCode =
  | "RUN_NOT_FOUND"
  | "RUN_NOT_IN_FLIGHT"
  | "RUN_NOT_RELEASED"
  | "RUN_IN_FLIGHT"
  | "RUN_NOT_DEAD_LETTERED"
  | "RUN_ENV_CONFLICT"
  | "INVALID_ARGUMENT"
  | "UNEXPECTED_REPLY"
  | "SCRIPT_LOAD_FAILED"
  | "CLOSED";

/** Root of the queue's errors; `code` is stable, the message is for humans. */
export class RunQueueError extends Error {
  override name = "RunQueueError";

  constructor(
    readonly code: RunQueueErrorCode,
    message: string,
    options?: { cause?: unknown; runId?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.runId = options?.runId;
  }

  /** The run the failed operation was about, when there was one. */
  readonly runId: string | undefined;
}

/**
 * Thrown when a Lua script cannot be assembled: a missing or circular include, or a file name that
 * does not say its key count. `includeStack` lists the files from the script down to the failure.
 */
export class ScriptLoadError extends RunQueueError {
  override name = "ScriptLoadError";

  constructor(
    message: string,
    readonly includeStack: readonly string[],
    options?: { cause?: unknown },
  ) {
    super("SCRIPT_LOAD_FAILED", `${message} (include stack: ${includeStack.join(" > ")})`, options);
  }
}
