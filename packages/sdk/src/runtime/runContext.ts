import { AsyncLocalStorage } from "node:async_hooks";
import type { SnapshotFence } from "../worker/heartbeatLoop.ts";
import type { WorkerApi } from "../worker/workerApi.ts";
import type { WorkerLogger } from "../worker/workerLogger.ts";
import type { Journal } from "./journal.ts";

/** What `wait.*`, `step.run` and `tasks.*AndWait` need from the attempt whose code calls them. */
export interface RunRuntime {
  runId: string;
  workerId: string;
  api: WorkerApi;
  /** the snapshot the attempt acts on; waits move it */
  fence: SnapshotFence;
  journal: Journal;
  /** a wait that ends by itself sooner than this stays on the worker; longer or open-ended ones checkpoint */
  checkpointThresholdMs: number;
  /** the task's AbortSignal */
  signal: AbortSignal;
  logger: WorkerLogger;
  /** the attempt checkpointed: it leaves this worker and reports nothing */
  suspended(): void;
  /** a wait is in progress (one at a time per run) */
  waiting: boolean;
}

// One store per process, even if a tasks file loads its own copy of the SDK: the worker that runs
// the task and the `wait` the task imports must find each other.
const storeKey = Symbol.for("@runengine/sdk/runRuntime");
const globals = globalThis as { [storeKey]?: AsyncLocalStorage<RunRuntime> };
const storage = (globals[storeKey] ??= new AsyncLocalStorage<RunRuntime>());

/** Runs `fn` (the task's code) with `runtime` as the run its waits and steps belong to. */
export function runInRuntime<T>(runtime: RunRuntime, fn: () => T): T {
  return storage.run(runtime, fn);
}

/** The run whose task code is calling; `what` names the call for the error outside a task. */
export function currentRuntime(what: string): RunRuntime {
  const runtime = storage.getStore();
  if (!runtime) throw new Error(`${what} can only be called inside a task's run function, on a worker`);
  return runtime;
}
