import type { AttemptResult } from "@runengine/core/schemas";
import { serializeError } from "../errors.ts";

export type FailureReason = Extract<AttemptResult, { ok: false }>["reason"];

/** The engine refuses longer fields (serializedErrorSchema); cut them rather than lose the report. */
const wireLimits = { name: 1_000, message: 100_000, stack: 100_000 } as const;

/** The task returned: its output, unless it cannot travel as JSON, which fails the attempt. */
export function resultFromOutput(output: unknown): AttemptResult {
  try {
    // JSON.stringify throws on cycles and BigInt; it drops a top-level function or symbol silently.
    if (JSON.stringify(output) === undefined && output !== undefined) throw new TypeError(`a ${typeof output} is not JSON`);
    return { ok: true, output };
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    return failure({ name: "OutputNotSerializableError", message: `The task's output cannot be sent as JSON: ${cause}`, retryable: false }, "TASK_ERROR");
  }
}

/** The engine refused the task's output as larger than it takes in a request: no retry can help. */
export function resultTooLarge(): AttemptResult {
  return failure(
    { name: "OutputTooLargeError", message: "The task's output is larger than the api accepts in one request (its API_BODY_LIMIT_BYTES)", retryable: false },
    "TASK_ERROR",
  );
}

/** The attempt failed: `error` is what the task threw, or the reason the worker aborted it. */
export function resultFromError(error: unknown, reason: FailureReason, retryable?: boolean): AttemptResult {
  const serialized = serializeError(error);
  return failure({ ...serialized, retryable: retryable ?? serialized.retryable }, reason);
}

function failure(error: { name: string; message: string; stack?: string; retryable: boolean }, reason: FailureReason): AttemptResult {
  return {
    ok: false,
    reason,
    error: {
      name: error.name.slice(0, wireLimits.name),
      message: error.message.slice(0, wireLimits.message),
      ...(error.stack !== undefined ? { stack: error.stack.slice(0, wireLimits.stack) } : {}),
      retryable: error.retryable,
    },
  };
}
