import type { AttemptResult, DequeuedRun } from "@runengine/core/schemas";
import { isStaleReply } from "../http/apiErrors.ts";
import type { AnyTask, TaskRunContext } from "../task.ts";
import { MaxDurationExceededError, RunCancelledError, StaleAttemptError, WorkerCrashedError, WorkerShutdownError } from "./abortReasons.ts";
import { resultFromError, resultFromOutput } from "./attemptResult.ts";
import { heartbeatUntilStopped, type SnapshotFence } from "./heartbeatLoop.ts";
import { Journal } from "../runtime/journal.ts";
import { runInRuntime, type RunRuntime } from "../runtime/runContext.ts";
import type { WorkerApi } from "./workerApi.ts";
import type { WorkerLogger } from "./workerLogger.ts";

export interface AttemptDeps {
  api: WorkerApi;
  workerId: string;
  tasks: ReadonlyMap<string, AnyTask>;
  heartbeatIntervalMs: number;
  logger: WorkerLogger;
  /** aborts when stop()'s grace period is over: a running attempt ends as WORKER_SHUTDOWN */
  shutdown: AbortSignal;
  /** aborts when stop() no longer waits for results to reach the engine */
  giveUp: AbortSignal;
  /** aborts, with the fatal error as its reason, when the process is dying: attempts end as CRASHED */
  crashed: AbortSignal;
  /** a wait that ends by itself sooner than this stays on the worker; any other checkpoints */
  checkpointThresholdMs: number;
}

export interface Attempt {
  runId: string;
  /** settles once the engine has the result, refused it as stale, or stop() gave up */
  reported: Promise<void>;
  /** settles once reported and the task's code has returned: the worker slot is free again */
  finished: Promise<void>;
}

/** The engine handed out a run of a task this worker did not register (a version mix-up). */
class UnknownTaskError extends Error {
  override readonly name = "UnknownTaskError";
}

/** Why an attempt's own listeners and timers stop: it has its outcome. */
const attemptDecided = "attempt decided";

/** Either a result for the engine, or nothing to say because the run is no longer ours. */
type Outcome = { kind: "report"; result: AttemptResult } | { kind: "stale" } | { kind: "suspended" };

/**
 * Takes one dequeued run through its attempt: start (a 409 drops it unexecuted), run the task with
 * an AbortSignal while heartbeating, and report the first outcome: the task's return or throw, a
 * cancel, maxDuration, a stale heartbeat or the end of the shutdown grace. Never rejects.
 */
export function runAttempt(run: DequeuedRun, deps: AttemptDeps): Attempt {
  const fields = { runId: run.runId, taskId: run.taskId };
  let taskSettled: Promise<void> = Promise.resolve();

  const reported = (async () => {
    let started: { snapshotId: string; attemptNumber: number };
    try {
      // A run handed out from a checkpoint is restored (same attempt), not started anew.
      const report = { workerId: deps.workerId, snapshotId: run.snapshotId };
      started = run.resume ? await deps.api.resume(run.runId, report) : await deps.api.startAttempt(run.runId, report);
    } catch (error) {
      if (isStaleReply(error)) deps.logger.info("attempt:dropped", { ...fields, reason: "stale snapshot at start" });
      // Unstarted, the run is requeued by the engine once its dequeue deadline passes.
      else deps.logger.error("attempt:startFailed", { ...fields, error });
      return;
    }
    const fence: SnapshotFence = { snapshotId: started.snapshotId };
    deps.logger.info(run.resume ? "attempt:restored" : "attempt:started", {
      ...fields,
      attempt: started.attemptNumber,
      ...(run.resume ? { checkpointId: run.resume.checkpointId, journalEntries: run.resume.journal.length } : {}),
    });

    const task = deps.tasks.get(run.taskId);
    let outcome: Outcome;
    if (task) {
      const execution = execute(task, run, started.attemptNumber, fence, deps);
      taskSettled = execution.settled;
      outcome = await execution.outcome;
    } else {
      const error = new UnknownTaskError(`Task "${run.taskId}" is not defined on this worker`);
      outcome = { kind: "report", result: resultFromError(error, "TASK_ERROR", false) };
    }

    if (outcome.kind === "suspended") {
      // The task's code waits forever on this worker; the run goes on by replay wherever it resumes.
      taskSettled = Promise.resolve();
      return;
    }
    if (outcome.kind === "stale") {
      deps.logger.warn("attempt:stale", { ...fields, reason: "another attempt owns the run; nothing reported" });
      return;
    }
    if (!outcome.result.ok && outcome.result.reason === "WORKER_SHUTDOWN" && !(await settlesBefore(taskSettled, deps.giveUp))) {
      // A handed-back run starts on another worker at once, so it is handed back only once this
      // copy of its code has returned. Code that ignores its signal ends with the process instead,
      // and the engine retries the run when its heartbeat deadline passes.
      deps.logger.warn("attempt:abandoned", { ...fields, reason: "the task ignored its abort signal until the worker stopped" });
      return;
    }
    await report(run.runId, fence, outcome.result, deps);
  })().catch((error: unknown) => deps.logger.error("attempt:crashed", { ...fields, error }));

  return { runId: run.runId, reported, finished: reported.then(() => taskSettled) };
}

function execute(task: AnyTask, run: DequeuedRun, attemptNumber: number, fence: SnapshotFence, deps: AttemptDeps) {
  const taskSignal = new AbortController();
  const cleanup = new AbortController();
  let decide!: (outcome: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => {
    decide = (value) => {
      if (cleanup.signal.aborted) return;
      // a reason of its own: abort() without one builds a DOMException, stack and all, per attempt
      cleanup.abort(attemptDecided);
      resolve(value);
    };
  });
  const abortWith = (reason: Error, reportAs: Outcome) => {
    if (cleanup.signal.aborted) return;
    taskSignal.abort(reason);
    decide(reportAs);
  };

  const onShutdown = () => {
    const reason = new WorkerShutdownError("The worker shut down before the task finished");
    // Another worker should get the run, so the attempt stays retryable.
    abortWith(reason, { kind: "report", result: resultFromError(reason, "WORKER_SHUTDOWN", true) });
  };
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener("abort", onShutdown, { once: true, signal: cleanup.signal });

  const onCrash = () => {
    const fatal: unknown = deps.crashed.reason;
    const reason = new WorkerCrashedError(`The worker process crashed: ${fatal instanceof Error ? fatal.message : String(fatal)}`, { cause: fatal });
    if (fatal instanceof Error && fatal.stack) reason.stack = fatal.stack;
    abortWith(reason, { kind: "report", result: resultFromError(reason, "CRASHED", true) });
  };
  if (deps.crashed.aborted) onCrash();
  else deps.crashed.addEventListener("abort", onCrash, { once: true, signal: cleanup.signal });

  const maxDurationSeconds = run.maxDurationSeconds ?? task.maxDuration;
  if (maxDurationSeconds !== undefined && !cleanup.signal.aborted) {
    const timer = setTimeout(() => {
      const reason = new MaxDurationExceededError(`The attempt exceeded the task's maxDuration of ${maxDurationSeconds} s`);
      abortWith(reason, { kind: "report", result: resultFromError(reason, "MAX_DURATION_EXCEEDED", false) });
    }, maxDurationSeconds * 1_000);
    cleanup.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }

  if (!cleanup.signal.aborted) {
    void heartbeatUntilStopped({
      api: deps.api,
      workerId: deps.workerId,
      runId: run.runId,
      fence,
      intervalMs: deps.heartbeatIntervalMs,
      logger: deps.logger,
      signal: cleanup.signal,
    }).then((action) => {
      if (action === "cancel") {
        const reason = new RunCancelledError("The run was cancelled");
        abortWith(reason, { kind: "report", result: resultFromError(reason, "CANCELLED", false) });
      } else if (action === "stale") {
        abortWith(new StaleAttemptError("Another attempt owns this run"), { kind: "stale" });
      }
    });
  }

  const ctx: TaskRunContext = {
    run: { id: run.runId, taskId: run.taskId, tags: run.tags, metadata: run.metadata, createdAt: run.createdAt },
    attempt: { number: attemptNumber },
    queue: { name: run.queue },
    environment: run.environment,
    deployment: run.deployment,
  };
  // A checkpointed task's code never returns: its slot is free once the checkpoint is stored, even
  // if another outcome (a stale heartbeat racing the checkpoint) decided the attempt first.
  let checkpointed!: () => void;
  const suspended = new Promise<void>((resolve) => (checkpointed = resolve));
  const runtime: RunRuntime = {
    runId: run.runId,
    workerId: deps.workerId,
    api: deps.api,
    fence,
    journal: new Journal(run.resume),
    checkpointThresholdMs: deps.checkpointThresholdMs,
    signal: taskSignal.signal,
    logger: deps.logger,
    suspended: () => {
      checkpointed();
      decide({ kind: "suspended" });
    },
    waiting: false,
  };
  // Shutdown may already have decided the attempt; then the task is not started at all.
  const settled = cleanup.signal.aborted
    ? Promise.resolve()
    : Promise.race([
        suspended,
        (async () => {
          try {
            const output: unknown = await runInRuntime(runtime, () => task.run(run.payload, { ctx, signal: taskSignal.signal }));
            runtime.journal.assertFullyReplayed();
            decide({ kind: "report", result: resultFromOutput(output) });
          } catch (error) {
            decide({ kind: "report", result: resultFromError(error, "TASK_ERROR") });
          }
        })(),
      ]);
  return { outcome, settled };
}

/** True once `promise` settles, false if `signal` aborts first. */
function settlesBefore(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => resolve(false);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve(true);
      },
    );
  });
}

async function report(runId: string, fence: SnapshotFence, result: AttemptResult, deps: AttemptDeps): Promise<void> {
  const fields = { runId, snapshotId: fence.snapshotId, ok: result.ok, ...(result.ok ? {} : { reason: result.reason }) };
  try {
    await deps.api.complete(runId, { workerId: deps.workerId, snapshotId: fence.snapshotId, result }, deps.giveUp);
    deps.logger.info("attempt:reported", fields);
  } catch (error) {
    if (isStaleReply(error)) deps.logger.warn("attempt:reportStale", fields);
    else if (deps.giveUp.aborted) deps.logger.error("attempt:reportAbandoned", { ...fields, error });
    else deps.logger.error("attempt:reportRefused", { ...fields, error });
  }
}
