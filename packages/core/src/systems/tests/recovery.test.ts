import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fastRetry, startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("run_recovery", { heartbeatTimeouts: { pendingExecutingMs: 1_000, executingMs: 1_000, pendingCancelMs: 1_000, suspendedRecheckMs: 1_000 } });
  ({ workerId } = await f.registerWorker([
    { id: "hello", queue: { name: "hello" }, retry: fastRetry },
    { id: "single", queue: { name: "single", concurrencyLimit: 1 }, retry: { ...fastRetry, maxAttempts: 1 } },
  ]));
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const statusOf = async (id: string) => (await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } })).status;
const historyOf = async (id: string) => (await engine().reads.history(f.environment.id, id)).map((s) => `${s.executionStatus}/${s.runStatus}`);
const later = () => Date.now() + 5_000;

describe("heartbeat monitor", () => {
  test("a run dequeued but never started goes back to its queue", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    expect(dequeued?.runId).toBe(id);
    const tick = await engine().heartbeatMonitor().tick(later());
    expect(tick.requeued).toBe(1);
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED", "QUEUED/PENDING"]);
    const [again] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    expect(again?.runId).toBe(id);
    await engine().cancel(f.environment.id, id);
  });

  test("a run handed to workers that never start it ends SYSTEM_FAILURE after 5 hand-offs, not in a loop", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    for (let handoff = 1; handoff <= 5; handoff++) {
      const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
      expect(dequeued?.runId).toBe(id);
      await engine().heartbeatMonitor().tick(later());
    }
    expect(await statusOf(id)).toBe("SYSTEM_FAILURE");
    const run = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
    expect(run.error).toMatchObject({ code: "TASK_RUN_STALLED" });
    expect(await engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0, queued: 0 });
  });

  test("an executing attempt that stops sending heartbeats fails as stalled and is retried", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued!.snapshotId });
    const tick = await engine().heartbeatMonitor().tick(later());
    expect(tick.stalled).toBe(1);
    await expect.poll(() => statusOf(id), { timeout: 10_000 }).toBe("RETRYING_AFTER_FAILURE");
    expect(await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: started.snapshotId })).toMatchObject({ action: "stale" });
    const run = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
    expect(run.error).toMatchObject({ code: "HEARTBEAT_TIMEOUT", name: "HeartbeatTimeout" });
    await engine().cancel(f.environment.id, id);
  });

  test("a retried run whose queue entry Redis lost is enqueued again from Postgres", async () => {
    const runQueue = engine().resources.runQueue;
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued!.snapshotId });
    // the entry and its slot vanish, as when Redis loses its data during the attempt
    await runQueue.ack(id);
    const error = { name: "Error", message: "boom", retryable: true };
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: false, reason: "TASK_ERROR", error } });
    await expect.poll(() => statusOf(id), { timeout: 10_000 }).toBe("RETRYING_AFTER_FAILURE");
    await expect.poll(async () => (await runQueue.explain(id)).state, { timeout: 10_000 }).toBe("queued");
    await engine().cancel(f.environment.id, id);
  });

  test("a cancel the worker never confirms is finished by the monitor", async () => {
    const { id } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued!.snapshotId });
    await engine().cancel(f.environment.id, id);
    expect((await engine().heartbeatMonitor().tick(later())).cancelsFinished).toBe(1);
    await expect.poll(() => historyOf(id), { timeout: 10_000 }).toEqual([
      "QUEUED/PENDING",
      "PENDING_EXECUTING/DEQUEUED",
      "EXECUTING/EXECUTING",
      "PENDING_CANCEL/CANCELED",
      "FINISHED/CANCELED",
    ]);
    // the queue is acked right after FINISHED commits
    await expect.poll(() => engine().resources.runQueue.stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0 });
  });

  test("nothing overdue, nothing done", async () => {
    expect(await engine().heartbeatMonitor().tick()).toEqual({ requeued: 0, stalled: 0, cancelsFinished: 0, suspendedRechecked: 0, stale: 0 });
  });
});

describe("limits and versions", () => {
  test("a queue limit of 1 hands out one run until it finishes", async () => {
    const a = await engine().trigger({ environment: f.environment, taskId: "single", payload: "a" });
    const b = await engine().trigger({ environment: f.environment, taskId: "single", payload: "b" });
    const first = await engine().dequeueForWorker({ workerId, maxRuns: 5 });
    expect(first.map((r) => r.runId)).toEqual([a.id]);
    expect(await engine().dequeueForWorker({ workerId, maxRuns: 5 })).toEqual([]);
    const started = await engine().startAttempt(f.environment.id, a.id, { workerId, snapshotId: first[0]!.snapshotId });
    await engine().reportAttemptResult(f.environment.id, a.id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: null } });
    await expect.poll(async () => (await engine().dequeueForWorker({ workerId, maxRuns: 5 })).map((r) => r.runId), { timeout: 10_000 }).toEqual([b.id]);
    await engine().cancel(f.environment.id, b.id);
  });

  test("a run whose task no live worker has waits as PENDING_VERSION and is queued when one registers", async () => {
    const retired = await f.registerWorker([{ id: "versioned", queue: { name: "versioned" }, retry: fastRetry }], "v0");
    await engine().workers.deregister(retired.workerId);
    const { id } = await engine().trigger({ environment: f.environment, taskId: "versioned", payload: 1 });
    expect(await engine().dequeueForWorker({ workerId, maxRuns: 5 })).toEqual([]);
    expect(await statusOf(id)).toBe("PENDING_VERSION");

    const v2 = await f.registerWorker([{ id: "versioned", queue: { name: "versioned" }, retry: fastRetry }], "v2");
    expect(await statusOf(id)).toBe("PENDING");
    const [dequeued] = await engine().dequeueForWorker({ workerId: v2.workerId, maxRuns: 5 });
    expect(dequeued?.runId).toBe(id);
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING", "RUN_CREATED/PENDING_VERSION", "QUEUED/PENDING", "PENDING_EXECUTING/DEQUEUED"]);
    await engine().cancel(f.environment.id, id);
  });
});
