import { CallBatcher, type BatchedCall } from "@runengine/core/callBatcher";
import {
  completeAttemptsResponseSchema,
  dequeueResponseSchema,
  maxRunsPerReport,
  heartbeatResponseSchema,
  registerWorkerResponseSchema,
  startAttemptResponseSchema,
  startAttemptsResponseSchema,
  resumeResponseSchema,
  waitResponseSchema,
  waitStatusResponseSchema,
  type AttemptResult,
  type DequeuedRun,
  type ReportItemError,
  type Journal,
  type TaskManifest,
  type WaitResponse,
  type WaitSpecInput,
  type WaitStatusResponse,
} from "@runengine/core/schemas";
import type { z } from "zod";
import { defaultBackoff, withRetries, type BackoffOptions } from "../backoff.ts";
import { isTooLargeReply, isTransientError, RunEngineApiError } from "../http/apiErrors.ts";
import type { JsonTransport } from "../http/jsonTransport.ts";
import { waitpointClient, type WaitpointClient } from "../client/waitpointClient.ts";
import { resultTooLarge } from "./attemptResult.ts";

export type HeartbeatAction = "continue" | "cancel" | "stale";

/**
 * The worker protocol as typed calls. Every call about a run names the snapshot it acted on; a
 * 409 reply (RunEngineApiError, see `isStaleReply`) means the run has moved on without us.
 */
export interface WorkerApi {
  register(body: { version: string; name: string; concurrency: number; tasks: TaskManifest[] }): Promise<{ workerId: string; deploymentId: string }>;
  /** Long poll: answers when runs are ready or after `waitMs`; `signal` ends it early. */
  dequeue(body: { workerId: string; maxRuns: number; waitMs: number }, signal: AbortSignal): Promise<DequeuedRun[]>;
  startAttempt(runId: string, body: { workerId: string; snapshotId: string }): Promise<{ snapshotId: string; attemptNumber: number }>;
  heartbeat(runId: string, body: { workerId: string; snapshotId: string }, signal: AbortSignal): Promise<{ action: HeartbeatAction; snapshotId: string }>;
  /** Retried until accepted, refused (409) or `giveUp` aborts. */
  complete(runId: string, body: { workerId: string; snapshotId: string; result: AttemptResult }, giveUp: AbortSignal): Promise<void>;
  deregister(body: { workerId: string }): Promise<void>;
  /** Blocks the run on a wait. Not retried: a repeat after a lost reply is refused (409) anyway. */
  wait(
    runId: string,
    /** without `checkpoint` the run waits on this worker, however long */
    body: { workerId: string; snapshotId: string; wait: WaitSpecInput; journalIndex: number; checkpoint?: { waitId: string; journal: Journal; thresholdMs: number } },
  ): Promise<WaitResponse>;
  waitStatus(runId: string, body: { workerId: string; snapshotId: string }): Promise<WaitStatusResponse>;
  /** Restores a run handed out from a checkpoint (instead of starting an attempt). */
  resume(runId: string, body: { workerId: string; snapshotId: string }): Promise<{ snapshotId: string; attemptNumber: number }>;
  /** `wait.createToken` inside a task */
  createToken: WaitpointClient["createToken"];
}

/** How long a wait call may take; one that triggers a batch of children does all of it first. */
const waitTimeoutMs = 120_000;
/** Margin over the long poll's wait so the request timeout never cuts an honest long poll short. */
const longPollMarginMs = 10_000;

/** How the runs of a batched call retry on their own (the transport's settings for single calls). */
export interface WorkerApiRetry extends Partial<BackoffOptions> {
  /** calls in all for a start, the first included (default 4); a result is retried until accepted */
  maxAttempts?: number;
}

export function createWorkerApi(request: JsonTransport, retry: WorkerApiRetry = {}): WorkerApi {
  const runPath = (runId: string, action: string) => `/api/v1/worker/runs/${encodeURIComponent(runId)}/${action}`;
  const backoff = { ...defaultBackoff, ...retry };
  const starts = batchedRunReports(request, "/api/v1/worker/runs/start", startAttemptsResponseSchema);
  // One results request at a time: the results that end meanwhile go together in the next one.
  // A busy engine spends more per request than per result in it (505-590 against 475-524 runs/s
  // with two at a time, in alternating pairs); a start, which the task waits for, keeps two.
  const completes = batchedRunReports(request, "/api/v1/worker/runs/complete", completeAttemptsResponseSchema, 1);
  return {
    register: (body) => request({ method: "POST", path: "/api/v1/worker/register", body, schema: registerWorkerResponseSchema, retry: true }),
    async dequeue(body, signal) {
      const reply = await request({
        method: "POST",
        path: "/api/v1/worker/dequeue",
        body,
        schema: dequeueResponseSchema,
        // A lost reply cannot be asked for again; the poll loop simply polls anew.
        retry: false,
        signal,
        timeoutMs: body.waitMs + longPollMarginMs,
      });
      return reply.runs;
    },
    // Repeating a start is safe: the snapshot check refuses the second one with a 409.
    async startAttempt(runId, body) {
      const { snapshotId, attemptNumber } = await withRetries(() => starts.call({ runId, ...body }), {
        ...backoff,
        maxAttempts: retry.maxAttempts ?? 4,
        shouldRetry: isTransientError,
      });
      return { snapshotId, attemptNumber };
    },
    heartbeat: (runId, body, signal) =>
      request({ method: "POST", path: runPath(runId, "heartbeat"), body, schema: heartbeatResponseSchema, retry: { maxAttempts: 3 }, signal }),
    async complete(runId, body, giveUp) {
      const send = (report: typeof body) =>
        untilAborted(
          withRetries(() => completes.call({ runId, ...report }), { ...backoff, maxAttempts: Number.POSITIVE_INFINITY, shouldRetry: isTransientError, signal: giveUp }),
          giveUp,
        );
      try {
        await send(body);
      } catch (error) {
        // Sent alone and still too large: the output itself is, and the attempt fails for it.
        if (!isTooLargeReply(error) || !body.result.ok) throw error;
        await send({ ...body, result: resultTooLarge() });
      }
    },
    // A batch wait triggers its children before it answers: give it longer than other calls.
    wait: (runId, body) => request({ method: "POST", path: runPath(runId, "wait"), body, schema: waitResponseSchema, retry: false, timeoutMs: waitTimeoutMs }),
    waitStatus: (runId, body) => request({ method: "POST", path: runPath(runId, "wait/status"), body, schema: waitStatusResponseSchema, retry: true }),
    // Repeating a resume is safe: the snapshot check refuses the second one.
    resume: (runId, body) => request({ method: "POST", path: runPath(runId, "resume"), body, schema: resumeResponseSchema, retry: true }),
    createToken: waitpointClient(request).createToken,
    deregister: (body) => request({ method: "POST", path: "/api/v1/worker/deregister", body, retry: { maxAttempts: 3 } }),
  };
}

/**
 * Starts and results of runs that a worker's attempts send at the same moment go out as one
 * request (see CallBatcher): a busy worker makes one call where it would make one per run. Each
 * run gets its own answer, as the error its single-run call would throw when refused; the caller
 * retries a run on its own, and runs retried together share a request again. `maxInFlight`
 * requests go at once; calls made while they are out wait for the next.
 */
function batchedRunReports<I extends { runId: string }, O extends { runId: string; ok: true }>(
  request: JsonTransport,
  path: string,
  schema: z.ZodType<{ runs: (O | ReportItemError)[] }>,
  maxInFlight = 2,
): CallBatcher<I, O> {
  const send = async (calls: readonly BatchedCall<I, O>[]): Promise<void> => {
    let reply: { runs: (O | ReportItemError)[] };
    try {
      reply = await request({ method: "POST", path, body: { runs: calls.map((call) => call.input) }, schema, retry: false });
    } catch (error) {
      // Over the engine's body limit together (large outputs): each half goes on its own, down to
      // single runs, whose own refusal their caller handles.
      if (!isTooLargeReply(error) || calls.length === 1) throw error;
      const half = Math.ceil(calls.length / 2);
      const parts = [calls.slice(0, half), calls.slice(half)];
      await Promise.all(parts.map((part) => send(part).catch((partError: unknown) => part.forEach((call) => call.reject(partError)))));
      return;
    }
    calls.forEach((call, i) => {
      const item = reply.runs[i];
      if (item?.runId !== call.input.runId) {
        call.reject(new RunEngineApiError({ status: 200, code: "INVALID_RESPONSE", message: `POST ${path}: no answer for run ${call.input.runId}` }));
      } else if (item.ok) {
        call.resolve(item);
      } else {
        call.reject(new RunEngineApiError({ status: item.status, code: item.error.code, message: item.error.message }));
      }
    });
  };
  return new CallBatcher<I, O>(send, { maxInFlight, maxBatch: maxRunsPerReport });
}

/** `promise`, or the abort reason of `signal` as soon as it fires: a request that still runs is left to finish. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error as Error);
      },
    );
  });
}
