/**
 * Stable codes of every error the engine raises on purpose. Callers (the api's error mapper, the
 * finalizer's retry decision, logs) switch on these, never on messages or class names, which may be
 * reworded. Values are wire format: never rename one.
 */
export const RunEngineErrorCode = {
  INVALID_TRANSITION: "INVALID_TRANSITION",
  STALE_SNAPSHOT: "STALE_SNAPSHOT",
  LOCK_ACQUISITION_TIMEOUT: "LOCK_ACQUISITION_TIMEOUT",
  VALIDATION: "VALIDATION",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  NON_RETRYABLE: "NON_RETRYABLE",
  CONFIG: "CONFIG",
} as const;

export type RunEngineErrorCode = (typeof RunEngineErrorCode)[keyof typeof RunEngineErrorCode];
