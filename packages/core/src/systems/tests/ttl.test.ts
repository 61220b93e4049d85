import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TriggerOptionsInput } from "../../schemas/trigger.ts";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("ttl_expiry");
  ({ workerId } = await f.registerWorker());
  f.startScheduler();
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const historyOf = async (id: string) => (await engine().reads.history(f.environment.id, id)).map((s) => `${s.executionStatus}/${s.runStatus}: ${s.description}`);
const trigger = (options: TriggerOptionsInput) => f.trigger(options);
const queueStats = () => engine().resources.runQueue.stats({ envId: f.environment.id });

describe("TTL expiry", () => {
  test("a queued run not dequeued within its ttl ends EXPIRED (TTL_EXPIRED) and leaves the queue", async () => {
    const { id } = await trigger({ ttl: 700 });
    const created = await runOf(id);
    expect(created).toMatchObject({ status: "PENDING", ttl: "700ms" });
    expect(created.expiresAt!.getTime() - created.queuedAt!.getTime()).toBe(700);
    expect((await queueStats()).queued).toBe(1);

    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("EXPIRED");
    const expired = await runOf(id);
    expect(expired.completedAt!.getTime() - created.expiresAt!.getTime()).toBeLessThan(1_000);
    expect(expired.error).toMatchObject({ code: "TTL_EXPIRED", name: "TtlExpired", message: "Run not started within ttl 700ms" });
    expect(await historyOf(id)).toEqual(["QUEUED/PENDING: Run was triggered and queued", "FINISHED/EXPIRED: Expired: not started within ttl 700ms"]);
    expect(await queueStats()).toMatchObject({ queued: 0, inFlight: 0 });
    expect(await engine().dequeueForWorker({ workerId, maxRuns: 1 })).toEqual([]);
  });

  test("a run dequeued within its ttl is not expired, and its attempt completes", async () => {
    const { id } = await trigger({ ttl: "2s" });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    expect(dequeued?.runId).toBe(id);
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((await runOf(id)).status).toBe("DEQUEUED");
    const started = await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued!.snapshotId });
    await engine().reportAttemptResult(f.environment.id, id, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: null } });
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000 }).toBe("COMPLETED_SUCCESSFULLY");
  });

  test("starting the first attempt removes the run's expiry job", async () => {
    const { id } = await trigger({ ttl: "1m" });
    expect(await engine().resources.jobs.isScheduled("expireRun", { runId: id })).toBe(true);
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    await engine().startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued!.snapshotId });
    expect(await engine().resources.jobs.isScheduled("expireRun", { runId: id })).toBe(false);
    await engine().cancel(f.environment.id, id);
  });

  test("a delayed run's ttl counts from when it is queued, not from the trigger", async () => {
    const { id } = await trigger({ delay: 600, ttl: "1s" });
    expect((await runOf(id)).expiresAt).toBeNull();
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    const queued = await runOf(id);
    expect(queued.expiresAt!.getTime() - queued.queuedAt!.getTime()).toBe(1_000);
    // past trigger + ttl, but not yet queued + ttl
    const sinceQueued = Date.now() - queued.queuedAt!.getTime();
    if (sinceQueued < 900) expect((await runOf(id)).status).toBe("PENDING");
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("EXPIRED");
    expect((await runOf(id)).completedAt!.getTime()).toBeGreaterThanOrEqual(queued.expiresAt!.getTime());
  });

  test("a run waiting for a worker version (PENDING_VERSION) expires too", async () => {
    await engine().registerWorker(f.environment, { version: "v-other", name: "other", concurrency: 1, tasks: [{ id: "other", queue: { name: "other" }, retry: { maxAttempts: 1, factor: 2, minTimeoutInMs: 100, maxTimeoutInMs: 100, randomize: false } }] });
    const parked = await engine().trigger({ environment: f.environment, taskId: "other", payload: 1, options: { ttl: 800 } });
    await engine().resources.prisma.workerInstance.updateMany({ where: { environmentId: f.environment.id, name: "other" }, data: { stoppedAt: new Date() } });
    const { workerId: helloWorker } = await f.registerWorker();
    await engine().dequeueForWorker({ workerId: helloWorker, maxRuns: 1 });
    await expect.poll(async () => (await runOf(parked.id)).status, { timeout: 5_000, interval: 20 }).toBe("EXPIRED");
  });

  test("an expiry job that fires early moves itself to the run's expiry time", async () => {
    const { id } = await trigger({ ttl: "1h" });
    const deferredTo: Date[] = [];
    await engine()
      .ttl.expire({ runId: id }, async (at) => {
        deferredTo.push(at);
        throw new Error("deferred");
      })
      .catch((error: Error) => expect(error.message).toBe("deferred"));
    expect(deferredTo).toEqual([(await runOf(id)).expiresAt]);
    await engine().cancel(f.environment.id, id);
  });
});
