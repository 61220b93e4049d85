import { afterAll, describe, expect, it } from "vitest";
import { leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("remove");
afterAll(() => setup.teardown());

describe("remove (remove-7.lua)", () => {
  it("removes a queued run and lets the queue go idle", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.enqueue({ runId: "a1", orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "k" });
    expect(await q.remove("a1")).toBe(true);
    expect(await q.stats({ envId: "ea", queue: "jobs", concurrencyKey: "k" })).toEqual({ queued: 0, inFlight: 0, limit: null });
    expect(await redis.zscore(q.keys.shardKeys(q.keys.shardOf("ea")).envs, "ea")).toBeNull();
    expect(await q.remove("a1")).toBe(false);
    expect(await leftoverState(redis, setup.prefix)).toEqual({});
  });

  it("refuses an in-flight run and returns false for an unknown one", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    await expect(q.remove("b1")).rejects.toMatchObject({ code: "RUN_IN_FLIGHT" });
    expect(await q.stats({ envId: "eb" })).toEqual({ queued: 0, inFlight: 1, limit: null });
    expect(await q.remove("never")).toBe(false);
    await q.ack("b1");
  });

  it("removes dead-lettered and released runs", async () => {
    const q = setup.queue({ maxNackAttempts: 0 });
    await q.enqueueMany(["c1", "c2"].map((runId) => ({ runId, orgId: "org", envId: "ec", queue: "jobs" })));
    await q.dequeue({ consumerId: "c", maxCount: 2, envIds: ["ec"] });
    expect((await q.nack("c1")).deadLettered).toBe(true);
    await q.release("c2");
    expect(await q.remove("c1")).toBe(true);
    expect(await q.remove("c2")).toBe(true);
    expect(await q.deadLetters({ envId: "ec" })).toEqual([]);
    expect(await leftoverState(setup.redis, setup.prefix)).toEqual({});
  });
});
