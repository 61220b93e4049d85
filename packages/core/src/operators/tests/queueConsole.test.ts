import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";

let f: EngineFixture;
beforeAll(async () => {
  f = await startEngine("core_queue_console");
  await f.registerWorker([{ id: "hello", queue: { name: "hello", concurrencyLimit: 2 }, retry: fastRetry }]);
});
afterAll(async () => {
  await f.close();
});

const trigger = (concurrencyKey?: string) =>
  f.handle.engine.trigger({ environment: f.environment, taskId: "hello", payload: {}, options: concurrencyKey ? { concurrencyKey } : {} });

const helloQueue = async () => {
  const [environment] = await f.handle.engine.queueConsole.overview();
  return { environment: environment!, queue: environment!.queues.find((queue) => queue.name === "hello")! };
};

describe("queue console", () => {
  test("shows queued and in-flight runs against the limits, per environment, queue and concurrency key", async () => {
    await trigger("tenant-a");
    await trigger("tenant-a");
    await trigger("tenant-b");
    await trigger();
    await f.handle.engine.resources.runQueue.dequeue({ consumerId: "test", maxCount: 1 });
    const { environment, queue } = await helloQueue();
    expect(environment).toMatchObject({ name: "test", queued: 3, inFlight: 1, limit: null, deadLetters: [] });
    expect(queue).toMatchObject({ name: "hello", queued: 3, inFlight: 1, limit: 2, paused: false, rateLimit: null });
    const byKey = Object.fromEntries(queue.concurrencyKeys.map((key) => [key.key, key.queued + key.inFlight]));
    expect(byKey).toEqual({ "tenant-a": 2, "tenant-b": 1 });
    // one queue asked for by name shows the same, reading that queue's keys alone
    const [named] = await f.handle.engine.queueConsole.queues(f.environment.id, ["hello"]);
    expect(named).toEqual(queue);
  });

  test("pause, resume and limits are stored and applied to the run queue", async () => {
    const queues = f.handle.engine.queueConsole;
    const envId = f.environment.id;
    await queues.pause(envId, "hello");
    expect((await helloQueue()).queue.paused).toBe(true);
    const { id } = await trigger();
    expect(await f.handle.engine.resources.runQueue.explain(id)).toMatchObject({ blockedBy: expect.arrayContaining(["paused"]) });
    await queues.resume(envId, "hello");
    expect((await helloQueue()).queue.paused).toBe(false);

    await queues.setConcurrencyLimit(envId, "hello", 5);
    await queues.setConcurrencyLimit(envId, undefined, 7);
    const { environment, queue } = await helloQueue();
    expect([environment.limit, queue.limit]).toEqual([7, 5]);
    expect(await f.db.prisma.taskQueue.findFirstOrThrow({ where: { environmentId: envId, name: "hello" } })).toMatchObject({ concurrencyLimit: 5 });
    expect(await f.db.prisma.runtimeEnvironment.findUniqueOrThrow({ where: { id: envId } })).toMatchObject({ concurrencyLimit: 7 });
    await expect(queues.pause(envId, "no-such-queue")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  test("an operator's queue limit outlives later deployments until the declared limit is asked for again", async () => {
    const queues = f.handle.engine.queueConsole;
    const envId = f.environment.id;
    const runQueueLimit = async () => (await f.handle.engine.resources.runQueue.stats({ envId, queue: "hello" })).limit;
    await queues.setConcurrencyLimit(envId, "hello", 9);
    await f.registerWorker([{ id: "hello", queue: { name: "hello", concurrencyLimit: 3 }, retry: fastRetry }], "v2");
    expect((await helloQueue()).queue).toMatchObject({ limit: 9, declaredLimit: 3, limitOverridden: true });
    expect(await runQueueLimit()).toBe(9);

    await queues.useDeclaredLimit(envId, "hello");
    expect((await helloQueue()).queue).toMatchObject({ limit: 3, declaredLimit: 3, limitOverridden: false });
    expect(await runQueueLimit()).toBe(3);
    // without an override, a deployment's declaration applies again
    await f.registerWorker([{ id: "hello", queue: { name: "hello", concurrencyLimit: 2 }, retry: fastRetry }], "v3");
    expect((await helloQueue()).queue).toMatchObject({ limit: 2, declaredLimit: 2, limitOverridden: false });
    expect(await runQueueLimit()).toBe(2);
    await expect(queues.useDeclaredLimit(envId, "no-such-queue")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  test("redrive queues a dead-lettered run again and records it in the run's history", async () => {
    const { runQueue } = f.handle.engine.resources;
    const { id } = await trigger("dead");
    await runQueue.setConcurrencyLimit({ envId: f.environment.id, queue: "hello", limit: 100 });
    // dead-letter it the way the queue does: past its nack attempts
    for (;;) {
      const dequeued = await runQueue.dequeue({ consumerId: "test", maxCount: 100 });
      const mine = dequeued.find((message) => message.runId === id);
      if (!mine) continue;
      const { deadLettered } = await runQueue.nack(id, { retryAt: 0 });
      if (deadLettered) break;
    }
    expect((await helloQueue()).environment.deadLetters.map((letter) => letter.runId)).toContain(id);
    await f.handle.engine.queueConsole.redrive(id);
    expect(await runQueue.explain(id)).toMatchObject({ state: "queued" });
    expect((await f.handle.engine.reads.history(f.environment.id, id)).at(-1)?.description).toBe("Redriven from the dead-letter set by an operator");
  });
});
