import type { z } from "zod";
import { defaultBackoff, withRetries, type BackoffOptions } from "../backoff.ts";
import { isTransientError, RunEngineApiError, RunEngineConnectionError } from "./apiErrors.ts";
import { nodeHttpRequest, type HttpResponse, type HttpSend } from "./nodeHttp.ts";

export interface TransportOptions {
  apiUrl: string;
  apiKey: string;
  /** sends the requests (default: node:http with kept-alive connections); `fetch` fits */
  fetch?: HttpSend;
  /** a request that has not answered after this long counts as a network error (default 30 s) */
  requestTimeoutMs?: number;
  /** backoff between retries of retryable calls, and how many calls in all (default 4) */
  retry?: Partial<BackoffOptions> & { maxAttempts?: number };
}

export interface JsonRequest<T> {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** path under the api's address, e.g. `/api/v1/runs/run_1`; segments must already be encoded */
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** reads the reply; without it the reply body is ignored */
  schema?: z.ZodType<T>;
  /**
   * Retry on network errors and 5xx. Only for calls that are safe to repeat: a repeated trigger
   * without an idempotency key would create a second run.
   */
  retry: boolean | { maxAttempts: number; signal?: AbortSignal };
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type JsonTransport = <T = undefined>(request: JsonRequest<T>) => Promise<T>;

/** JSON over HTTP with the environment API key, typed error replies and retries of safe calls. */
export function createJsonTransport(options: TransportOptions): JsonTransport {
  const send = options.fetch ?? nodeHttpRequest;
  const baseUrl = options.apiUrl.replace(/\/+$/, "");
  const backoff = { ...defaultBackoff, ...options.retry };
  const defaultMaxAttempts = options.retry?.maxAttempts ?? 4;
  const defaultTimeoutMs = options.requestTimeoutMs ?? 30_000;

  async function once<T>(request: JsonRequest<T>): Promise<T> {
    const url = new URL(baseUrl + request.path);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const aborted = abortOnTimeoutOrSignal(request.timeoutMs ?? defaultTimeoutMs, request.signal);
    const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}`, accept: "application/json" };
    // A JSON content type with an empty body is refused by the api, so bodiless calls send neither.
    if (request.body !== undefined) headers["content-type"] = "application/json";

    let response: HttpResponse;
    let text: string;
    try {
      response = await send(url, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: aborted.signal,
      });
      text = await response.text();
    } catch (error) {
      // The caller cancelled: that is not a connection problem and must not be retried.
      if (request.signal?.aborted) throw request.signal.reason;
      throw new RunEngineConnectionError(`${request.method} ${request.path} failed: ${describe(error)}`, { cause: error });
    } finally {
      aborted.dispose();
    }

    const body = parseJson(text);
    if (!response.ok) throw apiErrorFromReply(response.status, body, text);
    if (!request.schema) return undefined as T;
    const parsed = request.schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RunEngineApiError({
        status: response.status,
        code: "INVALID_RESPONSE",
        message: `${request.method} ${request.path}: unexpected reply (${issue?.path.join(".") || "body"}: ${issue?.message})`,
      });
    }
    return parsed.data;
  }

  return (request) => {
    if (request.retry === false) return once(request);
    const { maxAttempts, signal } = request.retry === true ? { maxAttempts: defaultMaxAttempts, signal: undefined } : request.retry;
    return withRetries(() => once(request), {
      ...backoff,
      maxAttempts,
      shouldRetry: (error) => isTransientError(error) && !request.signal?.aborted,
      signal: signal ?? request.signal,
    });
  };
}

/**
 * One signal that fires at the timeout or with `signal`, undone by dispose(). A worker makes
 * thousands of calls a minute: AbortSignal.timeout plus AbortSignal.any cost two more signals
 * each, and their timers and listeners outlive the call until collected.
 */
function abortOnTimeoutOrSignal(timeoutMs: number, signal: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no reply within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  const forward = () => controller.abort(signal?.reason);
  if (signal?.aborted) forward();
  else signal?.addEventListener("abort", forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", forward);
    },
  };
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function apiErrorFromReply(status: number, body: unknown, text: string): RunEngineApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; field?: unknown } } | undefined)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new RunEngineApiError({
      status,
      code: error.code,
      message: error.message,
      field: typeof error.field === "string" ? error.field : undefined,
    });
  }
  // A proxy or a crashed server answers without our error shape: keep what it said.
  return new RunEngineApiError({ status, code: `HTTP_${status}`, message: text.slice(0, 500) || `HTTP ${status}` });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
