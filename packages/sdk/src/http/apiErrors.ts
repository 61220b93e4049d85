/**
 * Thrown when the engine answers with an error reply (`{ error: { code, message, field? } }`, 4xx or
 * 5xx), or with a body the SDK cannot read (code `INVALID_RESPONSE`).
 */
export class RunEngineApiError extends Error {
  override readonly name = "RunEngineApiError";
  readonly status: number;
  /** stable machine-readable code, e.g. VALIDATION, NOT_FOUND, STALE_SNAPSHOT, UNAUTHORIZED */
  readonly code: string;
  /** the request field at fault, as a dotted path ("options.ttl"), when the engine names one */
  readonly field: string | undefined;

  constructor(reply: { status: number; code: string; message: string; field?: string | undefined }) {
    super(reply.message);
    this.status = reply.status;
    this.code = reply.code;
    this.field = reply.field;
  }
}

/** Thrown when the engine cannot be reached (refused, reset, timed out) after every retry allowed. */
export class RunEngineConnectionError extends Error {
  override readonly name = "RunEngineConnectionError";

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A stale snapshot: the run moved on without this caller (another attempt owns it, or it ended). */
export function isStaleReply(error: unknown): boolean {
  return error instanceof RunEngineApiError && error.status === 409;
}

/** The request body was over the api's limit for its route (API_BODY_LIMIT_BYTES, or API_BATCH_BODY_LIMIT_BYTES for batches and waits). */
export function isTooLargeReply(error: unknown): boolean {
  return error instanceof RunEngineApiError && error.status === 413;
}

/** Worth another try: the engine was unreachable, overloaded or failed on its side. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof RunEngineConnectionError) return true;
  return error instanceof RunEngineApiError && (error.status >= 500 || error.status === 429);
}
