import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestRedis, deleteKeysWithPrefix } from "@runengine/testing";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("reconciler");
  ({ workerId } = await f.registerWorker([
    { id: "hello", queue: { name: "hello" }, retry: fastRetry },
    { id: "limited", queue: { name: "limited", concurrencyLimit: 2 }, retry: fastRetry },
  ]));
  // The first tick of a fresh engine builds the queue's record; later ticks only look for strays.
  await engine().reconciler().tick();
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const queue = () => engine().resources.runQueue;
const repairsMetric = async (kind: string) => {
  const metric = await engine().resources.metrics.reconcilerRepairs.get();
  return metric.values.find((value) => value.labels.kind === kind)?.value ?? 0;
};
const trigger = async (taskId = "hello") => (await engine().trigger({ environment: f.environment, taskId, payload: 1 })).id;
const execute = async (runId: string) => {
  const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
  expect(dequeued?.runId).toBe(runId);
  return engine().startAttempt(f.environment.id, runId, { workerId, snapshotId: dequeued!.snapshotId });
};
const finish = async (runId: string, snapshotId: string) => {
  await engine().reportAttemptResult(f.environment.id, runId, { workerId, snapshotId, result: { ok: true, output: null } });
  await expect.poll(async () => (await queue().explain(runId)).state, { timeout: 10_000 }).toBe("unknown");
};

describe("reconciler tick: in-flight slots no run holds", () => {
  test("a slot of a final run and one of a run Postgres does not know are freed at once, and counted", async () => {
    const id = await trigger();
    const started = await execute(id);
    await finish(id, started.snapshotId);
    // The leak, on purpose: the finished run's entry put back in flight, and one for a run that never existed.
    await queue().restoreInFlight({ runId: id, orgId: f.environment.organizationId, envId: f.environment.id, queue: "hello", consumerId: workerId });
    await queue().restoreInFlight({ runId: "run_nobody", orgId: f.environment.organizationId, envId: f.environment.id, queue: "hello", consumerId: workerId });
    expect(await queue().stats({ envId: f.environment.id })).toMatchObject({ inFlight: 2 });
    const before = { leaked: await repairsMetric("leaked-slot"), unknown: await repairsMetric("unknown-run") };

    const result = await engine().reconciler().tick();

    expect(result.repairs).toEqual({ "leaked-slot": 1, "unknown-run": 1 });
    expect(await queue().stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0 });
    expect(await repairsMetric("leaked-slot")).toBe(before.leaked + 1);
    expect(await repairsMetric("unknown-run")).toBe(before.unknown + 1);
    expect((await engine().reconciler().tick()).repairs).toEqual({});
  });

  test("a run in flight but QUEUED in Postgres goes back to its queue only once it stayed so past the grace", async () => {
    const id = await trigger();
    // Dequeued from the queue with no dispatcher to lock it to a worker (one that died in between).
    const [taken] = await queue().dequeue({ consumerId: "dead-dispatcher", maxCount: 1, envIds: [f.environment.id] });
    expect(taken?.runId).toBe(id);
    const reconciler = engine().reconciler({ strayGraceMs: 10_000 });
    const now = Date.now();
    expect((await reconciler.tick(now)).repairs).toEqual({});
    expect((await reconciler.tick(now + 5_000)).repairs).toEqual({});
    expect((await reconciler.tick(now + 11_000)).repairs).toEqual({ "stray-slot": 1 });
    expect(await queue().explain(id)).toMatchObject({ state: "queued" });
    const started = await execute(id);
    await finish(id, started.snapshotId);
  });

  test("an executing run whose deadline was never tracked (its api died after the commit) gets one past the grace", async () => {
    const id = await trigger();
    const started = await execute(id);
    const entry = { environmentId: f.environment.id, runId: id, snapshotId: started.snapshotId };
    await engine().resources.heartbeats.track(entry, started.snapshotId, undefined);
    expect(await engine().resources.heartbeats.deadlineOf(entry)).toBeNull();
    const before = await repairsMetric("lost-heartbeat");

    const reconciler = engine().reconciler({ strayGraceMs: 10_000 });
    const now = Date.now();
    expect((await reconciler.tick(now)).repairs).toEqual({});
    expect((await reconciler.tick(now + 11_000)).repairs).toEqual({ "lost-heartbeat": 1 });
    expect(await engine().resources.heartbeats.deadlineOf(entry)).toBeGreaterThan(Date.now());
    expect(await repairsMetric("lost-heartbeat")).toBe(before + 1);
    expect((await reconciler.tick(now + 22_000)).repairs).toEqual({});
    await finish(id, started.snapshotId);
  });

  test("a run a worker holds keeps its slot", async () => {
    const id = await trigger();
    const started = await execute(id);
    expect((await engine().reconciler({ strayGraceMs: 0 }).tick()).repairs).toEqual({});
    expect(await queue().explain(id)).toMatchObject({ state: "inFlight" });
    await finish(id, started.snapshotId);
  });
});

describe("rebuild after Redis lost the engine's keys", () => {
  test("queued runs are queued again, runs on workers hold their slots and heartbeats again, limits come back", async () => {
    const queued = [await trigger("limited"), await trigger("limited"), await trigger("limited")];
    const executing = queued.shift() as string;
    const started = await execute(executing);
    const { heartbeats } = engine().resources;
    const redis = createTestRedis();
    await deleteKeysWithPrefix(redis, f.handle.engine.resources.runQueue.keys.prefix);
    await redis.del(`${queue().keys.prefix.slice(0, -"rq:".length)}heartbeats`);
    redis.disconnect();
    expect(await queue().stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0, queued: 0 });

    const result = await engine().reconciler().tick();

    expect(result.rebuilt).toBe(true);
    expect(result.repairs).toEqual({ "lost-queued": 2, "lost-slot": 1, "lost-heartbeat": 1 });
    expect(await queue().stats({ envId: f.environment.id, queue: "limited" })).toEqual({ queued: 2, inFlight: 1, limit: 2 });
    expect(await heartbeats.deadlineOf({ environmentId: f.environment.id, runId: executing, snapshotId: started.snapshotId })).not.toBeNull();
    // The limit counts the restored slot: only one more run may start.
    const dequeued = await engine().dequeueForWorker({ workerId, maxRuns: 5 });
    expect(dequeued).toHaveLength(1);
    expect(await engine().heartbeat(f.environment.id, executing, { workerId, snapshotId: started.snapshotId })).toMatchObject({ action: "continue" });
    expect((await engine().reconciler().tick()).rebuilt).toBe(false);

    await finish(executing, started.snapshotId);
    const second = await engine().startAttempt(f.environment.id, dequeued[0]!.runId, { workerId, snapshotId: dequeued[0]!.snapshotId });
    await finish(dequeued[0]!.runId, second.snapshotId);
    const last = queued.find((id) => id !== dequeued[0]!.runId) as string;
    const third = await execute(last);
    await finish(last, third.snapshotId);
    expect(await queue().stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

describe("heartbeats while Redis lost the deadline", () => {
  test("the current worker's heartbeat tracks its run again instead of being told it is stale", async () => {
    const id = await trigger();
    const started = await execute(id);
    const entry = { environmentId: f.environment.id, runId: id, snapshotId: started.snapshotId };
    await engine().resources.heartbeats.forget(entry);
    expect(await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: started.snapshotId })).toMatchObject({ action: "continue" });
    expect(await engine().resources.heartbeats.deadlineOf(entry)).not.toBeNull();
    await finish(id, started.snapshotId);
    expect(await engine().heartbeat(f.environment.id, id, { workerId, snapshotId: started.snapshotId })).toMatchObject({ action: "stale" });
  });
});
