import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { ZodError } from "zod";
import { RunEngineError, RunEngineErrorCode } from "@runengine/core";

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

export function sendError(reply: FastifyReply, status: number, code: string, message: string, field?: string) {
  const body: ErrorBody = { error: { code, message, ...(field ? { field } : {}) } };
  return reply.status(status).send(body);
}

/** The first failing path of a zod error as "options.ttl" (what the client must fix). */
export function zodField(error: ZodError): string | undefined {
  const path = error.issues[0]?.path;
  return path && path.length > 0 ? path.map(String).join(".") : undefined;
}

/** HTTP status per engine error code; a code not listed (CONFIG, NON_RETRYABLE) is a 500. */
const engineErrorStatus: Partial<Record<RunEngineErrorCode, number>> = {
  [RunEngineErrorCode.VALIDATION]: 400,
  [RunEngineErrorCode.NOT_FOUND]: 404,
  [RunEngineErrorCode.CONFLICT]: 409,
  [RunEngineErrorCode.STALE_SNAPSHOT]: 409,
  [RunEngineErrorCode.INVALID_TRANSITION]: 409,
  [RunEngineErrorCode.LOCK_ACQUISITION_TIMEOUT]: 503,
};

/** The reply for an error the engine raised on purpose (bad input, an engine error with a status), if it is one. */
export function knownErrorReply(error: unknown): { status: number; body: ErrorBody } | undefined {
  if (error instanceof ZodError) {
    const field = zodField(error);
    const message = error.issues[0]?.message ?? "Invalid request";
    return { status: 400, body: { error: { code: "VALIDATION", message: field ? `${field}: ${message}` : message, ...(field ? { field } : {}) } } };
  }
  if (error instanceof RunEngineError) {
    const status = engineErrorStatus[error.code];
    if (status) {
      const field = "field" in error && typeof error.field === "string" ? error.field : undefined;
      return { status, body: { error: { code: error.code, message: error.message, ...(field ? { field } : {}) } } };
    }
  }
  return undefined;
}

/**
 * Maps every thrown error to `{ error: { code, message, field? } }`: bad input is a 4xx naming the
 * field, an engine error maps by its code, and anything else is a 500 whose details stay in the log.
 */
export function errorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const known = knownErrorReply(error);
    if (known) return reply.status(known.status).send(known.body);
    const fastifyError = error as FastifyError;
    if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return sendError(reply, 413, "PAYLOAD_TOO_LARGE", "Request body is larger than the configured limit");
    }
    // Fastify's own refusals: malformed JSON, unsupported content type...
    if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
      return sendError(reply, fastifyError.statusCode, fastifyError.code ?? "BAD_REQUEST", fastifyError.message);
    }
    logger.error({ event: "http:unhandled-error", err: error, url: request.url, method: request.method }, "unhandled error");
    return sendError(reply, 500, "INTERNAL_ERROR", "Internal error");
  };
}
