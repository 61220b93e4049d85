import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { ConflictError, NotFoundError, StaleSnapshotError, ValidationError } from "../../errors/runEngineError.ts";
import { fastRetry, startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("run_lifecycle");
  ({ workerId } = await f.registerWorker());
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const historyOf = async (id: string) => (await engine().reads.history(f.environment.id, id)).map((s) => `${s.executionStatus}/${s.runStatus}`);
const waitForStatus = (id: string, status: string) => expect.poll(async () => (await runOf(id)).status, { timeout: 10_000 }).toBe(status);

/** A run of "hello", dequeued and its first attempt started. */
async function startedRun() {
  const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
  const dequeued = await dequeueOne();
  const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
  return { id, started };
}

async function dequeueOne() {
  const [run] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
  if (!run) throw new Error("nothing dequeued");
  return run;
}

describe("a run from trigger to final state", () => {
  test("success: QUEUED → PENDING_EXECUTING → EXECUTING → FINISHED, output stored, slot released", async () => {
    const { id, isCached } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: { name: "Ada" } });
    expect(isCached).toBe(false);
    const dequeued = await dequeueOne();
    expect(dequeued).toMatchObject({ runId: id, taskId: "hello", payload: { name: "Ada" }, attemptNumber: 1, queue: "hello" });

    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
    expect(started.attemptNumber).toBe(1);
    expect(await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: started.snapshotId })).toEqual({ action: "continue", snapshotId: started.snapshotId });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: { greeting: "hi Ada" } } });

    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
    const run = await runOf(id);
    expect(run.output).toEqual({ greeting: "hi Ada" });
    expect(run.attemptNumber).toBe(1);
    expect(run.startedAt).not.toBeNull();
    expect(run.completedAt).not.toBeNull();
    expect(await historyOf(id)).toEqual([
      "QUEUED/PENDING",
      "PENDING_EXECUTING/DEQUEUED",
      "EXECUTING/EXECUTING",
      "FINISHED/COMPLETED_SUCCESSFULLY",
    ]);
    // the queue is acked right after FINISHED commits
    await expect.poll(() => engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ queued: 0, inFlight: 0 });
    expect(await f.handle.engine.resources.heartbeats.size()).toBe(0);
  });

  test("results reported at once reach the finalizer in a shared job, and each run ends with its own outcome", async () => {
    const triggered = await Promise.all(Array.from({ length: 6 }, (_, i) => engine().trigger({ environment: f.environment, taskId: "hello", payload: i })));
    const dequeued = await engine().dequeueForWorker({ workerId, maxRuns: 6 });
    expect(dequeued).toHaveLength(6);
    const started = await Promise.all(dequeued.map((run) => engine().startAttempt(f.environment.id, run.runId, { workerId, snapshotId: run.snapshotId })));
    const enqueue = vi.spyOn(engine().resources.jobs, "enqueue");

    await Promise.all(
      dequeued.map((run, i) =>
        engine().reportAttemptResult(f.environment.id, run.runId, {
          workerId,
          snapshotId: started[i]!.snapshotId,
          result: i === 0 ? { ok: false, error: { name: "Error", message: "bad input", retryable: false }, reason: "TASK_ERROR" } : { ok: true, output: i },
        }),
      ),
    );

    const resultJobs = enqueue.mock.calls.filter(([name]) => name === "attemptResults");
    enqueue.mockRestore();
    expect(resultJobs.length).toBeLessThanOrEqual(2);
    expect(resultJobs.flatMap(([, payload]) => (payload as { results: unknown[] }).results)).toHaveLength(6);
    for (const [i, run] of dequeued.entries()) await waitForStatus(run.runId, i === 0 ? "COMPLETED_WITH_ERRORS" : "COMPLETED_SUCCESSFULLY");
    expect((await runOf(dequeued[3]!.runId)).output).toBe(3);
    expect(new Set(dequeued.map((run) => run.runId))).toEqual(new Set(triggered.map((run) => run.id)));
  });

  test("a failed attempt retries after its backoff and succeeds on attempt 2", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const first = await dequeueOne();
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: first.snapshotId });
    const failedAt = Date.now();
    await engine().reportAttemptResult(f.environment.id, id, {
      workerId,
      snapshotId: started.snapshotId,
      result: { ok: false, error: { name: "Error", message: "flaky", retryable: true }, reason: "TASK_ERROR" },
    });
    await waitForStatus(id, "RETRYING_AFTER_FAILURE");
    expect(await engine().dequeueForWorker({ workerId, maxRuns: 1 })).toEqual([]);

    await expect.poll(async () => (await engine().dequeueForWorker({ workerId, maxRuns: 1 })).length, { timeout: 5_000, interval: 20 }).toBe(1);
    expect(Date.now() - failedAt).toBeGreaterThanOrEqual(300);
    const latest = await engine().resources.snapshots.latestSnapshot(id);
    expect(latest?.executionStatus).toBe("PENDING_EXECUTING");
    const second = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: latest!.id });
    expect(second.attemptNumber).toBe(2);
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: second.snapshotId, result: { ok: true, output: "ok" } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
    expect((await runOf(id)).attemptNumber).toBe(2);
  });

  test("a non-retryable error ends the run at once with COMPLETED_WITH_ERRORS", async () => {
    const { id, started } = await startedRun();
    await engine().reportAttemptResult(f.environment.id, id, {
      workerId,
      snapshotId: started.snapshotId,
      result: { ok: false, error: { name: "AbortTaskRunError", message: "bad input", retryable: false }, reason: "TASK_ERROR" },
    });
    await waitForStatus(id, "COMPLETED_WITH_ERRORS");
    expect((await runOf(id)).error).toMatchObject({ name: "AbortTaskRunError", message: "bad input", code: "TASK_RUN_ERROR" });
  });

  test("a task no deployment declares is refused and nothing is written", async () => {
    const before = await f.db.prisma.taskRun.count();
    await expect(engine().trigger({ environment: f.environment, taskId: "no-such-task", payload: 1 })).rejects.toBeInstanceOf(NotFoundError);
    expect(await f.db.prisma.taskRun.count()).toBe(before);
  });

  test("a stopping worker's hand-back queues the run again as PENDING, not as a failure", async () => {
    const { id, started } = await startedRun();
    await engine().reportAttemptResult(f.environment.id, id, {
      workerId,
      snapshotId: started.snapshotId,
      result: { ok: false, error: { name: "WorkerShutdownError", message: "stopping", retryable: true }, reason: "WORKER_SHUTDOWN" },
    });
    await expect.poll(() => historyOf(id), { timeout: 10_000 }).toEqual(["QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED", "EXECUTING/EXECUTING", "QUEUED/PENDING"]);
    expect((await runOf(id)).error).toBeNull();
    const again = await dequeueOne();
    expect(again).toMatchObject({ runId: id, attemptNumber: 2 });
    const second = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: again.snapshotId });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: second.snapshotId, result: { ok: true, output: 2 } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
  });

  test("an attempt past its maxDuration ends the run TIMED_OUT, without a retry", async () => {
    const { id, started } = await startedRun();
    await engine().reportAttemptResult(f.environment.id, id, {
      workerId,
      snapshotId: started.snapshotId,
      result: { ok: false, error: { name: "MaxDurationExceededError", message: "ran past 1 s", retryable: true }, reason: "MAX_DURATION_EXCEEDED" },
    });
    await waitForStatus(id, "TIMED_OUT");
    expect((await runOf(id)).attemptNumber).toBe(1);
    expect((await runOf(id)).error).toMatchObject({ code: "MAX_DURATION_EXCEEDED" });
  });

  test("a worker process that crashed: the attempt is retried, and a crash on the last attempt ends the run CRASHED", async () => {
    const crash = { ok: false, error: { name: "WorkerCrashedError", message: "boom outside the task", retryable: true }, reason: "CRASHED" } as const;
    const retried = await startedRun();
    await engine().reportAttemptResult(f.environment.id, retried.id, { workerId, snapshotId: retried.started.snapshotId, result: crash });
    await waitForStatus(retried.id, "RETRYING_AFTER_FAILURE");
    expect((await runOf(retried.id)).error).toMatchObject({ code: "TASK_RUN_CRASHED" });
    await engine().cancel(f.environment.id, retried.id);
    await waitForStatus(retried.id, "CANCELED");

    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1, options: { maxAttempts: 1 } });
    const dequeued = await dequeueOne();
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: crash });
    await waitForStatus(id, "CRASHED");
    expect((await runOf(id)).error).toMatchObject({ name: "WorkerCrashedError", code: "TASK_RUN_CRASHED" });
  });

  test("a dequeued run tells the worker its environment and deployment; it is locked to that deployment when it starts, not before", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const dequeued = await dequeueOne();
    expect(dequeued.runId).toBe(id);
    // a hand-off that never starts (the worker died first) must not tie the run to that version
    expect((await runOf(id)).lockedToDeploymentId).toBeNull();
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
    const deployment = await f.db.prisma.workerDeployment.findUniqueOrThrow({ where: { id: (await runOf(id)).lockedToDeploymentId! } });
    expect(dequeued.environment).toEqual({ id: f.environment.id, name: expect.any(String), type: "DEVELOPMENT" });
    expect(dequeued.deployment).toEqual({ id: deployment.id, version: deployment.version });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: null } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
  });

  test("runs dequeued for a worker that stopped polling are handed back: queued again at once, not left to a deadline", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const undelivered = await dequeueOne();
    await engine().handBackUndelivered([undelivered]);
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED", "QUEUED/PENDING"]);
    // a second hand-back of the same delivery changes nothing: the run has moved on
    await engine().handBackUndelivered([undelivered]);
    const again = await dequeueOne();
    expect(again).toMatchObject({ runId: id, attemptNumber: 1 });
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: again.snapshotId });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: null } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
  });

  test("a report or a start with a stale snapshot id is refused and changes nothing", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const dequeued = await dequeueOne();
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
    await expect(engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId })).rejects.toBeInstanceOf(StaleSnapshotError);
    await expect(
      engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId, result: { ok: true, output: 1 } }),
    ).rejects.toBeInstanceOf(StaleSnapshotError);
    expect(await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId })).toEqual({ action: "stale", snapshotId: started.snapshotId });
    expect((await runOf(id)).status).toBe("EXECUTING");
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: 1 } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
  });

  test("another environment can neither read nor drive the run, nor use the worker", async () => {
    const { environment: other } = await engine().createEnvironment({ name: "other" });
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const dequeued = await dequeueOne();
    const report = { workerId, snapshotId: dequeued.snapshotId };
    await expect(engine().reads.run(other.id, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().reads.history(other.id, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().cancel(other.id, id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().startAttempt(other.id, id, report)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().heartbeat(other.id, id, report)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().reportAttemptResult(other.id, id, { ...report, result: { ok: true, output: 1 } })).rejects.toBeInstanceOf(NotFoundError);
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED"]);

    // their own worker, on our run: not found, and the answer gives away no snapshot id
    const theirs = await engine().registerWorker(other, { version: "v1", name: "theirs", concurrency: 1, tasks: [{ id: "hello", queue: { name: "hello" }, retry: fastRetry }] });
    await expect(engine().heartbeat(other.id, id, { workerId: theirs.workerId, snapshotId: "guess" })).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().reads.list(other.id, { cursor: id, limit: 10 })).rejects.toBeInstanceOf(ValidationError);
    await engine().workers.deregister(theirs.workerId);
    await expect(engine().dequeueForWorker({ workerId: theirs.workerId, maxRuns: 1 })).rejects.toBeInstanceOf(NotFoundError);

    const started = await engine().startAttempt(f.environment.id, id, report);
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: 1 } });
    await waitForStatus(id, "COMPLETED_SUCCESSFULLY");
  });

  test("an environment name is unique in its organization", async () => {
    await expect(engine().createEnvironment({ name: "test" })).rejects.toBeInstanceOf(ConflictError);
  });

  test("20 concurrent triggers with one idempotency key make one run", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        engine().trigger({ environment: f.environment, taskId: "hello", payload: 1, options: { idempotencyKey: "same-key" } }),
      ),
    );
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.isCached)).toHaveLength(1);
    expect(await f.db.prisma.taskRun.count({ where: { idempotencyKey: "same-key" } })).toBe(1);
    await engine().cancel(f.environment.id, results[0]!.id);
  });
});

describe("cancellation", () => {
  const cancelledWhileExecuting = ["QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED", "EXECUTING/EXECUTING", "PENDING_CANCEL/CANCELED", "FINISHED/CANCELED"];

  test("a queued run is cancelled at once and leaves the queue", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    expect(await engine().cancel(f.environment.id, id)).toBe("CANCELED");
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING", "FINISHED/CANCELED"]);
    expect(await engine().dequeueForWorker({ workerId, maxRuns: 5 })).toEqual([]);
    expect(await engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ queued: 0, inFlight: 0 });
  });

  test("an executing run: PENDING_CANCEL, the worker's heartbeat says cancel, its report finishes it", async () => {
    const { id, started } = await startedRun();
    expect(await engine().cancel(f.environment.id, id)).toBe("CANCELED");
    const beat = await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: started.snapshotId });
    expect(beat.action).toBe("cancel");
    await engine().reportAttemptResult(f.environment.id, id, {
      workerId,
      snapshotId: started.snapshotId,
      result: { ok: false, error: { name: "AbortError", message: "aborted", retryable: true }, reason: "CANCELLED" },
    });
    await expect.poll(() => historyOf(id), { timeout: 10_000 }).toEqual(cancelledWhileExecuting);
    await expect.poll(() => engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0 });
  });

  test("a result accepted before a cancel came in is decided again from the run's new state: the run ends CANCELED", async () => {
    const { id, started } = await startedRun();
    await f.finalizer.pause();
    const enqueue = vi.spyOn(engine().resources.jobs, "enqueue");
    try {
      await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: "done" } });
      // the job carries the snapshot the api accepted the report on, which the cancel then overtakes
      const [, payload] = enqueue.mock.calls.find(([name]) => name === "attemptResults")!;
      expect((payload as { results: unknown[] }).results).toMatchObject([{ runId: id, seen: { id: started.snapshotId, executionStatus: "EXECUTING" } }]);
      expect(await engine().cancel(f.environment.id, id)).toBe("CANCELED");
    } finally {
      enqueue.mockRestore();
      f.finalizer.resume();
    }
    await expect.poll(() => historyOf(id), { timeout: 10_000 }).toEqual(cancelledWhileExecuting);
    expect((await runOf(id)).output).toBeNull();
    await expect.poll(() => engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0 });
  });
});
