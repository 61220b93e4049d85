import {
  dequeueResponseSchema,
  heartbeatResponseSchema,
  registerWorkerResponseSchema,
  startAttemptResponseSchema,
  resumeResponseSchema,
  waitResponseSchema,
  waitStatusResponseSchema,
  type AttemptResult,
  type DequeuedRun,
  type Journal,
  type TaskManifest,
  type WaitResponse,
  type WaitSpecInput,
  type WaitStatusResponse,
} from "@runengine/core/schemas";
import type { JsonTransport } from "../http/jsonTransport.ts";
import { waitpointClient, type WaitpointClient } from "../client/waitpointClient.ts";

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
    body: { workerId: string; snapshotId: string; wait: WaitSpecInput; journalIndex: number; checkpoint: { waitId: string; journal: Journal; thresholdMs: number } },
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

export function createWorkerApi(request: JsonTransport): WorkerApi {
  const runPath = (runId: string, action: string) => `/api/v1/worker/runs/${encodeURIComponent(runId)}/${action}`;
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
    startAttempt: (runId, body) => request({ method: "POST", path: runPath(runId, "start"), body, schema: startAttemptResponseSchema, retry: true }),
    heartbeat: (runId, body, signal) =>
      request({ method: "POST", path: runPath(runId, "heartbeat"), body, schema: heartbeatResponseSchema, retry: { maxAttempts: 3 }, signal }),
    complete: (runId, body, giveUp) =>
      request({ method: "POST", path: runPath(runId, "complete"), body, retry: { maxAttempts: Number.POSITIVE_INFINITY }, signal: giveUp }),
    // A batch wait triggers its children before it answers: give it longer than other calls.
    wait: (runId, body) => request({ method: "POST", path: runPath(runId, "wait"), body, schema: waitResponseSchema, retry: false, timeoutMs: waitTimeoutMs }),
    waitStatus: (runId, body) => request({ method: "POST", path: runPath(runId, "wait/status"), body, schema: waitStatusResponseSchema, retry: true }),
    // Repeating a resume is safe: the snapshot check refuses the second one.
    resume: (runId, body) => request({ method: "POST", path: runPath(runId, "resume"), body, schema: resumeResponseSchema, retry: true }),
    createToken: waitpointClient(request).createToken,
    deregister: (body) => request({ method: "POST", path: "/api/v1/worker/deregister", body, retry: { maxAttempts: 3 } }),
  };
}
