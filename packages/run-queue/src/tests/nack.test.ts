import { afterAll, describe, expect, it } from "vitest";
import { TestClock, leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("nack");
afterAll(() => setup.teardown());

describe("nack (nack-7.lua)", () => {
  it("frees the slot and queues the run again at retryAt with its attempt count up", async () => {
    const clock = new TestClock(5_000_000);
    const q = setup.queue({ clock: clock.read });
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", queue: "jobs", limit: 1 });
    await q.enqueue({ runId: "a1", orgId: "org", envId: "ea", queue: "jobs" });
    await q.dequeue({ consumerId: "c", maxCount: 1 });
    expect(await q.nack("a1", { retryAt: 5_010_000 })).toEqual({ deadLettered: false, attempt: 1 });
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 1, inFlight: 0, limit: 1 });
    expect(await redis.zscore(q.keys.lane("ea", "jobs", undefined, "delayed"), "a1")).toBe("5010000");
    expect(await redis.zscore(q.keys.envKeys("ea").inflight, "a1")).toBeNull();
    expect(await q.dequeue({ consumerId: "c", maxCount: 1 })).toEqual([]);
    clock.advance(10_000);
    const [again] = await q.dequeue({ consumerId: "c", maxCount: 1 });
    expect(again).toMatchObject({ runId: "a1", attempt: 1, availableAt: 5_010_000 });
  });

  it("dead-letters a run once its attempts exceed maxNackAttempts", async () => {
    const q = setup.queue({ maxNackAttempts: 2 });
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    for (let attempt = 1; attempt <= 2; attempt++) {
      await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
      expect(await q.nack("b1")).toEqual({ deadLettered: false, attempt });
    }
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    expect(await q.nack("b1")).toEqual({ deadLettered: true, attempt: 3 });
    expect(await setup.redis.zscore(q.keys.envKeys("eb").dead, "b1")).not.toBeNull();
    expect(await q.stats({ envId: "eb" })).toEqual({ queued: 0, inFlight: 0, limit: null });
    expect(await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] })).toEqual([]);
  });

  it("refuses an unknown run and a run that is not in flight", async () => {
    const q = setup.queue();
    await expect(q.nack("nope")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs" });
    await expect(q.nack("c1")).rejects.toMatchObject({ code: "RUN_NOT_IN_FLIGHT" });
    expect(await q.stats({ envId: "ec" })).toEqual({ queued: 1, inFlight: 0, limit: null });
    expect(await q.remove("c1")).toBe(true);
  });

  it("leaves no state behind once the run is acked", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "d1", orgId: "org", envId: "ed", queue: "jobs", concurrencyKey: "k" });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ed"] });
    await q.nack("d1");
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ed"] });
    await q.ack("d1");
    await q.ack("b1");
    await q.ack("a1");
    expect(await leftoverState(setup.redis, setup.prefix)).toEqual({});
  });
});
