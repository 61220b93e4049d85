import type { DequeuedRun } from "@runengine/core/schemas";
import { setMaxListeners } from "node:events";
import { hostname } from "node:os";
import { setImmediate as yieldToStarts } from "node:timers/promises";
import { z } from "zod";
import { backoffDelayMs, defaultBackoff, sleep, type BackoffOptions } from "../backoff.ts";
import { createJsonTransport } from "../http/jsonTransport.ts";
import type { HttpSend } from "../http/nodeHttp.ts";
import type { AnyTask } from "../task.ts";
import { runAttempt, type Attempt } from "./attempt.ts";
import { toTaskManifest } from "./taskManifest.ts";
import { createWorkerApi } from "./workerApi.ts";
import { createJsonLinesLogger, type WorkerLogger } from "./workerLogger.ts";

export interface WorkerOptions {
  tasks: readonly AnyTask[];
  apiUrl: string;
  apiKey: string;
  /** runs this process executes at once */
  concurrency: number;
  /** the deployment version the engine records for the runs this worker starts */
  version: string;
  /** shown in the engine's records (default `<hostname>-<pid>`) */
  name?: string;
  /** time between heartbeats of a running attempt (default 2,000 ms) */
  heartbeatIntervalMs?: number;
  /**
   * a wait (`wait.for`, a token with a timeout) that ends by itself sooner than this keeps the run
   * on this worker; longer or open-ended waits checkpoint it and free its slot (default 5,000 ms)
   */
  checkpointThresholdMs?: number;
  /** how long one dequeue long poll may wait for work (default 20,000 ms) */
  pollWaitMs?: number;
  /** how long stop() lets running tasks finish before aborting them (default 10,000 ms) */
  shutdownGraceMs?: number;
  /** JSON lines on stdout by default */
  logger?: WorkerLogger;
  /** sends the calls to the engine (default: node:http, kept-alive); the built-in `fetch` fits */
  fetch?: HttpSend;
  /** backoff between retries of calls to the engine */
  retry?: Partial<BackoffOptions>;
}

export interface RunEngineWorker {
  workerId: string;
  deploymentId: string;
  /** Stops polling, waits up to the grace period, aborts what still runs (WORKER_SHUTDOWN), deregisters. */
  stop(): Promise<void>;
  /**
   * The process is about to die of `error` (an uncaught exception): stops polling, reports every
   * running attempt as CRASHED with that error, and deregisters. The caller exits afterwards.
   */
  crash(error: unknown): Promise<void>;
  /** runs holding a slot: started or starting, and not yet returned */
  running(): number;
}

const settingsSchema = z.object({
  apiUrl: z.url(),
  apiKey: z.string().min(1),
  concurrency: z.number().int().min(1).max(10_000),
  version: z.string().min(1).max(64),
  name: z.string().min(1).max(128).default(() => `${hostname()}-${process.pid}`),
  heartbeatIntervalMs: z.number().int().min(1).default(2_000),
  checkpointThresholdMs: z.number().int().min(0).default(5_000),
  pollWaitMs: z.number().int().min(0).max(60_000).default(20_000),
  shutdownGraceMs: z.number().int().min(0).default(10_000),
});

/** After the grace period, how long stop() still waits for the last results to reach the engine. */
const reportGiveUpMs = 5_000;
/** An engine that answers an empty poll at once is not asked again sooner than this. */
const minEmptyPollMs = 100;
/**
 * Listeners an attempt in flight keeps on each of the worker's shutdown, crash and give-up
 * signals at most (its own handler, a report's wait for the engine, a retry's pause).
 */
const listenersPerAttempt = 3;

/**
 * Registers the tasks with the engine and executes the runs it hands out, never more than
 * `concurrency` at once. Resolves once registered. Throws a ZodError naming a bad option, or the
 * engine's error if registration is refused.
 */
export async function startWorker(options: WorkerOptions): Promise<RunEngineWorker> {
  const settings = settingsSchema.parse(options);
  const tasks = tasksById(options.tasks);
  const logger = options.logger ?? createJsonLinesLogger();
  const backoff = { ...defaultBackoff, ...options.retry };
  const api = createWorkerApi(createJsonTransport({ apiUrl: settings.apiUrl, apiKey: settings.apiKey, fetch: options.fetch, retry: backoff }), backoff);

  const { workerId, deploymentId } = await api.register({
    version: settings.version,
    name: settings.name,
    concurrency: settings.concurrency,
    tasks: [...tasks.values()].map(toTaskManifest),
  });
  logger.info("worker:registered", { workerId, deploymentId, version: settings.version, tasks: [...tasks.keys()], concurrency: settings.concurrency });

  const attempts = new Set<Attempt>();
  const slotListeners = new Set<() => void>();
  const stopPolling = new AbortController();
  const shutdown = new AbortController();
  const giveUp = new AbortController();
  const crashed = new AbortController();
  // Node warns of a leak past 10 listeners on one signal; a worker with more slots than that has
  // that many by design, and the warning stays for a real leak beyond them.
  setMaxListeners(settings.concurrency * listenersPerAttempt + 10, shutdown.signal, giveUp.signal, crashed.signal);
  const attemptDeps = {
    api,
    workerId,
    tasks,
    heartbeatIntervalMs: settings.heartbeatIntervalMs,
    logger,
    shutdown: shutdown.signal,
    giveUp: giveUp.signal,
    crashed: crashed.signal,
    checkpointThresholdMs: settings.checkpointThresholdMs,
  };

  function launch(run: DequeuedRun): void {
    const attempt = runAttempt(run, attemptDeps);
    attempts.add(attempt);
    void attempt.finished.then(() => {
      attempts.delete(attempt);
      for (const listener of [...slotListeners]) listener();
    });
  }

  function slotFreed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        slotListeners.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      slotListeners.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /**
   * One poll at a time, asking for exactly the free slots. Slots only free up while a poll is out,
   * never fill, so whatever the reply holds fits.
   */
  async function pollLoop(): Promise<void> {
    const signal = stopPolling.signal;
    let failures = 0;
    while (!signal.aborted) {
      const freeSlots = settings.concurrency - attempts.size;
      if (freeSlots <= 0) {
        await slotFreed(signal);
        continue;
      }
      const polledAt = Date.now();
      let runs: DequeuedRun[];
      try {
        runs = await api.dequeue({ workerId, maxRuns: freeSlots, waitMs: settings.pollWaitMs }, signal);
        failures = 0;
      } catch (error) {
        if (signal.aborted) return;
        const retryInMs = backoffDelayMs(failures++, backoff);
        logger.warn("dequeue:failed", { error, retryInMs });
        await sleep(retryInMs, signal);
        continue;
      }
      if (runs.length > freeSlots) {
        // Running them would break the concurrency promise; unstarted, the engine requeues them.
        logger.error("dequeue:overflow", { maxRuns: freeSlots, received: runs.length, dropped: runs.slice(freeSlots).map((r) => r.runId) });
      }
      for (const run of runs.slice(0, freeSlots)) launch(run);
      // The starts of these runs go out first: the api serves them before this worker's next poll.
      if (runs.length > 0) await yieldToStarts();
      if (runs.length === 0 && Date.now() - polledAt < minEmptyPollMs) await sleep(minEmptyPollMs, signal);
    }
  }

  const polling = pollLoop().catch((error: unknown) => logger.error("worker:pollLoopCrashed", { error }));

  let stopping: Promise<void> | undefined;
  async function gracefulStop(): Promise<void> {
    logger.info("worker:stopping", { running: attempts.size, graceMs: settings.shutdownGraceMs });
    stopPolling.abort();
    await polling;

    await settleWithin([...attempts].map((a) => a.finished), settings.shutdownGraceMs);
    if (attempts.size > 0) {
      logger.warn("worker:graceExpired", { aborted: [...attempts].map((a) => a.runId) });
      shutdown.abort();
      await settleWithin([...attempts].map((a) => a.reported), reportGiveUpMs);
      giveUp.abort();
      await Promise.all([...attempts].map((a) => a.reported));
    }

    await deregister();
    logger.info("worker:stopped", { workerId, abandoned: attempts.size });
  }

  async function crashNow(error: unknown): Promise<void> {
    logger.error("worker:crashed", { error, running: [...attempts].map((a) => a.runId) });
    stopPolling.abort();
    crashed.abort(error);
    await settleWithin([...attempts].map((a) => a.reported), reportGiveUpMs);
    giveUp.abort();
    await deregister();
  }

  async function deregister(): Promise<void> {
    try {
      await api.deregister({ workerId });
    } catch (error) {
      logger.error("worker:deregisterFailed", { workerId, error });
    }
  }

  let crashing: Promise<void> | undefined;
  return {
    workerId,
    deploymentId,
    stop: () => (stopping ??= gracefulStop()),
    crash: (error) => (crashing ??= crashNow(error)),
    running: () => attempts.size,
  };
}

function tasksById(tasks: readonly AnyTask[]): Map<string, AnyTask> {
  if (tasks.length === 0) throw new Error("startWorker needs at least one task");
  const byId = new Map<string, AnyTask>();
  for (const task of tasks) {
    const existing = byId.get(task.id);
    if (existing && existing !== task) throw new Error(`Two different tasks have the id "${task.id}"`);
    byId.set(task.id, task);
  }
  return byId;
}

/** Waits for every promise, or `ms`, whichever comes first, without leaving a timer behind. */
async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<void> {
  const allSettled = new AbortController();
  void Promise.allSettled(promises).then(() => allSettled.abort());
  await sleep(ms, allSettled.signal);
}
