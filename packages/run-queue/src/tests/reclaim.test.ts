import { afterAll, describe, expect, it } from "vitest";
import { TestClock, leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("reclaim");
afterAll(() => setup.teardown());

describe("reclaim (reclaim-6.lua) and extend (extend-7.lua)", () => {
  it("queues the runs of a consumer that died once their deadline passes, and frees their slots", async () => {
    const clock = new TestClock(20_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}t1:`, clock: clock.read, visibilityTimeoutMs: 10_000 });
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", limit: 2 });
    await q.enqueueMany(["a1", "a2", "a3"].map((runId) => ({ runId, orgId: "org", envId: "ea", queue: "jobs" })));
    const dead = await q.dequeue({ consumerId: "dies", maxCount: 5 });
    expect(dead.map((m) => m.runId)).toEqual(["a1", "a2"]);
    clock.advance(10_000);
    expect(await q.reclaimExpired()).toEqual({ requeued: 0, deadLettered: 0, runIds: [] });
    clock.advance(1);
    const result = await q.reclaimExpired();
    expect(result.requeued).toBe(2);
    expect(result.runIds.sort()).toEqual(["a1", "a2"]);
    expect(await q.stats({ envId: "ea" })).toEqual({ queued: 3, inFlight: 0, limit: 2 });
    expect(await redis.zscore(q.keys.shardKeys(q.keys.shardOf("ea")).inflight, "ea")).toBeNull();
    const next = await q.dequeue({ consumerId: "lives", maxCount: 5 });
    expect(next).toHaveLength(2);
    expect(next.find((m) => m.runId === "a1")?.attempt ?? next.find((m) => m.runId === "a2")?.attempt).toBe(1);
    for (const m of next) await q.ack(m.runId);
    await q.dequeue({ consumerId: "lives", maxCount: 5 }).then((ms) => Promise.all(ms.map((m) => q.ack(m.runId))));
    expect(await leftoverState(redis, `${setup.prefix}t1:`)).toEqual({});
  });

  it("does not reclaim a run whose consumer extends its deadline", async () => {
    const clock = new TestClock(30_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}t2:`, clock: clock.read, visibilityTimeoutMs: 10_000 });
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    clock.advance(9_000);
    expect(await q.extend("b1")).toBe(30_019_000);
    clock.advance(5_000);
    expect((await q.reclaimExpired()).runIds).not.toContain("b1");
    expect((await q.stats({ envId: "eb" })).inFlight).toBe(1);
    await expect(q.extend("nope")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await q.release("b1");
    await expect(q.extend("b1")).rejects.toMatchObject({ code: "RUN_NOT_IN_FLIGHT" });
  });

  it("dead-letters a run whose consumers keep dying", async () => {
    const clock = new TestClock(40_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}t3:`, clock: clock.read, visibilityTimeoutMs: 1_000, maxNackAttempts: 1 });
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs" });
    for (const expected of [{ requeued: 1, deadLettered: 0 }, { requeued: 0, deadLettered: 1 }]) {
      expect(await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] })).toHaveLength(1);
      clock.advance(1_001);
      expect(await q.reclaimExpired()).toMatchObject(expected);
    }
    expect((await q.deadLetters({ envId: "ec" })).map((d) => d.runId)).toEqual(["c1"]);
  });

  it("visits only envs whose deadline passed; an empty pass is a no-op", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}t5:` });
    expect(await q.reclaimExpired()).toEqual({ requeued: 0, deadLettered: 0, runIds: [] });
  });

  it("runs as a loop until close()", async () => {
    const clock = new TestClock(50_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}t4:`, clock: clock.read, visibilityTimeoutMs: 100 });
    await q.enqueue({ runId: "d1", orgId: "org", envId: "ed", queue: "jobs" });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ed"] });
    clock.advance(1_000);
    q.startReclaimer({ intervalMs: 10 });
    for (let i = 0; i < 100 && (await q.stats({ envId: "ed" })).queued === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await q.close();
    expect(await q.dequeue({ consumerId: "c", maxCount: 1 }).catch((e: { code: string }) => e.code)).toBe("CLOSED");
    expect(await setup.queue({ keyPrefix: `${setup.prefix}t4:` }).stats({ envId: "ed" })).toEqual({ queued: 1, inFlight: 0, limit: null });
  });
});
