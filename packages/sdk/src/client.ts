import type { RescheduleRequestInput, TriggerOptionsInput } from "@runengine/core/schemas";
import { sleep } from "./backoff.ts";
import {
  batchSchema,
  batchTriggerReplySchema,
  cancelReplySchema,
  historyReplySchema,
  runPageSchema,
  runSchema,
  triggerReplySchema,
} from "./client/replySchemas.ts";
import { queueClient, type QueueClient } from "./client/queueClient.ts";
import { scheduleClient, type ScheduleClient } from "./client/scheduleClient.ts";
import { waitpointClient, type WaitpointClient } from "./client/waitpointClient.ts";
import { createJsonTransport, type TransportOptions } from "./http/jsonTransport.ts";
import type { PayloadFor, Run, RunSnapshot } from "./client/runTypes.ts";
import type { Batch } from "./client/replySchemas.ts";
import { isFinalRunStatus, type RunStatus } from "./runStatus.ts";
import type { AnyTask, OutputOf, PayloadOf } from "./task.ts";

export type { TriggerOptionsInput as TriggerOptions } from "@runengine/core/schemas";
export type { Run, RunError, RunSnapshot } from "./client/runTypes.ts";
export type { Batch } from "./client/replySchemas.ts";

declare const taskOfRun: unique symbol;

/**
 * A run the client created. When it came from a Task object it remembers the task's type, so
 * `runs.retrieve(handle)` and `runs.poll(handle)` type the payload and output.
 */
export interface RunHandle<TTask extends AnyTask | undefined = undefined> {
  id: string;
  readonly [taskOfRun]?: TTask;
}

export interface TriggeredRun<TTask extends AnyTask | undefined = undefined> extends RunHandle<TTask> {
  /** true when an earlier run with the same idempotency key was returned instead of a new one */
  isCached: boolean;
}

export interface BatchItem<TPayload> {
  payload: TPayload;
  options?: TriggerOptionsInput;
}

export interface BatchTriggered<TTask extends AnyTask | undefined = undefined> {
  batchId: string;
  runs: RunHandle<TTask>[];
}

export interface RunListQuery {
  status?: RunStatus;
  taskId?: string;
  cursor?: string;
  limit?: number;
}

export interface RunPage {
  data: Run[];
  /** pass back as `cursor` for the next page; null on the last page */
  nextCursor: string | null;
}

export interface PollOptions {
  /** time between reads (default 1,000 ms) */
  intervalMs?: number;
  /** give up after this long with a RunPollTimeoutError (default: wait until final) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Thrown by `runs.poll` when the run is still not final after `timeoutMs`. */
export class RunPollTimeoutError extends Error {
  override readonly name = "RunPollTimeoutError";
  constructor(
    readonly runId: string,
    readonly lastStatus: RunStatus,
    readonly timeoutMs: number,
  ) {
    super(`Run ${runId} is still ${lastStatus} after ${timeoutMs} ms`);
  }
}

export interface RunEngineClient {
  /** Starts a run. Not retried on network errors unless `options.idempotencyKey` is set. */
  trigger<TTask extends AnyTask>(task: TTask, payload: PayloadOf<TTask>, options?: TriggerOptionsInput): Promise<TriggeredRun<TTask>>;
  /** By id; `trigger<typeof myTask>("my-task", ...)` types it without loading the task's code. */
  trigger<TTask extends AnyTask | undefined = undefined>(taskId: string, payload: PayloadFor<TTask>, options?: TriggerOptionsInput): Promise<TriggeredRun<TTask>>;
  /** Starts up to 1,000 runs in one call. Retried only when every item has an idempotency key. */
  batchTrigger<TTask extends AnyTask>(task: TTask, items: BatchItem<PayloadOf<TTask>>[]): Promise<BatchTriggered<TTask>>;
  batchTrigger<TTask extends AnyTask | undefined = undefined>(taskId: string, items: BatchItem<PayloadFor<TTask>>[]): Promise<BatchTriggered<TTask>>;
  runs: {
    retrieve<TTask extends AnyTask | undefined = undefined>(run: string | RunHandle<TTask>): Promise<Run<TTask>>;
    list(query?: RunListQuery): Promise<RunPage>;
    /** Every run matching `query`, page after page. */
    iterate(query?: Omit<RunListQuery, "cursor">): AsyncIterableIterator<Run>;
    /** The run's execution snapshots, oldest first. */
    history(run: string | RunHandle<AnyTask | undefined>): Promise<{ snapshots: RunSnapshot[] }>;
    cancel(run: string | RunHandle<AnyTask | undefined>): Promise<{ id: string; status: RunStatus }>;
    /**
     * Moves the due time of a DELAYED run, earlier or later: `delay` is a duration from now ("30s",
     * milliseconds) or an ISO date. A run that is no longer DELAYED is refused (409).
     */
    reschedule<TTask extends AnyTask | undefined = undefined>(run: string | RunHandle<TTask>, body: RescheduleRequestInput): Promise<Run<TTask>>;
    /** Resolves with the run once its status is final (COMPLETED_*, CANCELED, CRASHED, ...). */
    poll<TTask extends AnyTask | undefined = undefined>(run: string | RunHandle<TTask>, options?: PollOptions): Promise<Run<TTask>>;
  };
  batches: {
    /** The batch and its runs counted by status; COMPLETED once every run is final. */
    retrieve(batchId: string): Promise<Batch>;
  };
  /** Cron schedules of the environment (create, list, retrieve, update, del, activate, deactivate). */
  schedules: ScheduleClient;
  /** Waitpoint tokens: a task waits on one with `wait.forToken` until it is completed here. */
  waitpoints: WaitpointClient;
  /** Queues of the environment: what each holds against which limit; pause, resume, set a limit. */
  queues: QueueClient;
}

export type ClientOptions = TransportOptions;

/** The client an application backend uses to trigger runs and follow them. */
export function createClient(options: ClientOptions): RunEngineClient {
  const request = createJsonTransport(options);
  const taskPath = (task: AnyTask | string) => `/api/v1/tasks/${encodeURIComponent(typeof task === "string" ? task : task.id)}`;
  const runPath = (run: string | RunHandle<AnyTask | undefined>) => `/api/v1/runs/${encodeURIComponent(typeof run === "string" ? run : run.id)}`;

  async function retrieve(run: string | RunHandle<AnyTask | undefined>) {
    return request({ method: "GET", path: runPath(run), schema: runSchema, retry: true });
  }

  async function list(query: RunListQuery = {}): Promise<RunPage> {
    return request({ method: "GET", path: "/api/v1/runs", query: { ...query }, schema: runPageSchema, retry: true });
  }

  async function* iterate(query: Omit<RunListQuery, "cursor"> = {}): AsyncIterableIterator<Run> {
    let cursor: string | undefined;
    do {
      const page = await list({ ...query, cursor });
      yield* page.data;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async function poll(run: string | RunHandle<AnyTask | undefined>, pollOptions: PollOptions = {}) {
    const intervalMs = pollOptions.intervalMs ?? 1_000;
    const deadline = pollOptions.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + pollOptions.timeoutMs;
    for (;;) {
      pollOptions.signal?.throwIfAborted();
      const current = await retrieve(run);
      if (isFinalRunStatus(current.status)) return current;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new RunPollTimeoutError(current.id, current.status, pollOptions.timeoutMs ?? 0);
      await sleep(Math.min(intervalMs, remainingMs), pollOptions.signal);
    }
  }

  const client = {
    async trigger(task: AnyTask | string, payload: unknown, triggerOptions?: TriggerOptionsInput) {
      return request({
        method: "POST",
        path: `${taskPath(task)}/trigger`,
        body: { payload, ...(triggerOptions ? { options: triggerOptions } : {}) },
        schema: triggerReplySchema,
        retry: triggerOptions?.idempotencyKey !== undefined,
      });
    },
    async batchTrigger(task: AnyTask | string, items: BatchItem<unknown>[]) {
      return request({
        method: "POST",
        path: `${taskPath(task)}/batch`,
        body: { items },
        schema: batchTriggerReplySchema,
        retry: items.length > 0 && items.every((item) => item.options?.idempotencyKey !== undefined),
      });
    },
    runs: {
      retrieve,
      list,
      iterate,
      async history(run: string | RunHandle<AnyTask | undefined>) {
        return request({ method: "GET", path: `${runPath(run)}/history`, schema: historyReplySchema, retry: true });
      },
      async cancel(run: string | RunHandle<AnyTask | undefined>) {
        // Cancelling twice is harmless, so the call is retried like a read.
        return request({ method: "POST", path: `${runPath(run)}/cancel`, schema: cancelReplySchema, retry: true });
      },
      async reschedule(run: string | RunHandle<AnyTask | undefined>, body: RescheduleRequestInput) {
        // not retried: a relative delay sent twice would land twice, the second maybe refused
        return request({ method: "POST", path: `${runPath(run)}/reschedule`, body, schema: runSchema, retry: false });
      },
      poll,
    },
    batches: {
      async retrieve(batchId: string) {
        return request({ method: "GET", path: `/api/v1/batches/${encodeURIComponent(batchId)}`, schema: batchSchema, retry: true });
      },
    },
    schedules: scheduleClient(request),
    waitpoints: waitpointClient(request),
    queues: queueClient(request),
  };
  // The overloads only narrow types; at runtime a task and its id take the same path.
  return client as unknown as RunEngineClient;
}
