/**
 * Thrown by task code to fail the run at once: the engine does not retry it, whatever attempts
 * remain.
 */
export class AbortTaskRunError extends Error {
  // string, not the literal: subclasses name the specific reason (JournalMismatchError)
  override readonly name: string = "AbortTaskRunError";
}

/** An error as it travels from the worker to the engine and is shown on the run. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** false when the task asked for no retry (AbortTaskRunError) */
  retryable: boolean;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.stack ? { stack: error.stack } : {}),
      retryable: !(error instanceof AbortTaskRunError),
    };
  }
  return { name: "NonErrorThrown", message: safeString(error), retryable: true };
}

function safeString(value: unknown): string {
  try {
    return typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
