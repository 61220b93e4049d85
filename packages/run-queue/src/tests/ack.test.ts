import { afterAll, describe, expect, it, vi } from "vitest";
import { ScriptRegistry } from "../scriptLoader.ts";
import { leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("ack");
afterAll(() => setup.teardown());

describe("ack (ack-7.lua)", () => {
  it("frees the slot of an in-flight run and leaves no state behind", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", queue: "jobs", limit: 1 });
    await q.enqueueMany(["a1", "a2"].map((runId) => ({ runId, orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "k" })));
    const [first] = await q.dequeue({ consumerId: "c", maxCount: 5 });
    expect(first?.runId).toBe("a1");
    // At its limit, the lane waits in the blocked set, out of the candidates.
    expect(await redis.smembers(q.keys.queue("ea", "jobs", "blocked"))).toEqual(["k"]);
    expect(await redis.zcard(q.keys.queue("ea", "jobs", "lanes"))).toBe(0);
    expect(await q.ack("a1")).toBe(true);
    expect(await redis.smembers(q.keys.queue("ea", "jobs", "blocked"))).toEqual([]);
    expect(await redis.zcard(q.keys.queue("ea", "jobs", "lanes"))).toBe(1);
    expect(await redis.exists(q.keys.run("ea", "a1"))).toBe(0);
    expect(await redis.exists(q.keys.locator("a1"))).toBe(0);
    const [second] = await q.dequeue({ consumerId: "c", maxCount: 5 });
    expect(second?.runId).toBe("a2");
    expect(await q.ack("a2")).toBe(true);
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 0, inFlight: 0, limit: 1 });
    expect(await leftoverState(redis, setup.prefix)).toEqual({});
  });

  it("forgets a queued run too", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    expect(await q.ack("b1")).toBe(true);
    expect(await q.stats({ envId: "eb" })).toEqual({ queued: 0, inFlight: 0, limit: null });
    expect(await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["eb"] })).toEqual([]);
  });

  it("returns false for an unknown run id or a second ack", async () => {
    const q = setup.queue();
    expect(await q.ack("never-enqueued")).toBe(false);
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs" });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] });
    expect(await q.ack("c1")).toBe(true);
    expect(await q.ack("c1")).toBe(false);
    // Another instance without the cached locator finds the same answer through Redis.
    expect(await setup.queue().ack("c1")).toBe(false);
  });

  it("brings an env at its env limit back into the shard index", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ed", limit: 1 });
    await q.enqueueMany(["d1", "d2"].map((runId) => ({ runId, orgId: "org", envId: "ed", queue: "jobs" })));
    await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ed"] });
    const shard = q.keys.shardKeys(q.keys.shardOf("ed"));
    expect(await redis.zscore(shard.envs, "ed")).toBeNull();
    await setup.queue().ack("d1");
    expect(await redis.zscore(shard.envs, "ed")).not.toBeNull();
    expect((await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ed"] })).map((m) => m.runId)).toEqual(["d2"]);
  });

  it("keeps a drained lane's saved state while it has runs in flight, and drops it with the last", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.enqueueMany(["e1", "e2"].map((runId) => ({ runId, orgId: "org", envId: "ee", queue: "jobs", concurrencyKey: "k" })));
    expect(await q.dequeue({ consumerId: "c", maxCount: 5, envIds: ["ee"] })).toHaveLength(2);
    const lvt = q.keys.queue("ee", "jobs", "lvt");
    expect(await redis.hget(lvt, "k")).toBe("2");
    expect(await q.ack("e1")).toBe(true);
    expect(await redis.hget(lvt, "k")).toBe("2");
    expect(await q.stats({ envId: "ee", queue: "jobs" })).toEqual({ queued: 0, inFlight: 1, limit: null });
    expect(await q.ack("e2")).toBe(true);
    const left = Object.keys(await leftoverState(redis, setup.prefix)).filter((key) => key.includes("{env:ee}"));
    expect(left).toEqual([]);
  });

  it("acks called in one tick go out as one script call per env, each with its own answer", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.enqueueMany(["f1", "f2", "f3"].map((runId) => ({ runId, orgId: "org", envId: "ef", queue: "jobs" })));
    await q.enqueueMany(["g1", "g2"].map((runId) => ({ runId, orgId: "org", envId: "eg", queue: "jobs" })));
    expect(await q.dequeue({ consumerId: "c", maxCount: 2, envIds: ["ef"] })).toHaveLength(2);
    expect(await q.dequeue({ consumerId: "c", maxCount: 2, envIds: ["eg"] })).toHaveLength(2);
    const run = vi.spyOn(ScriptRegistry.prototype, "run");
    try {
      // f1, f2, g1, g2 in flight, f3 queued; f1 twice (acked once, as two calls in a row would be).
      const acked = await Promise.all(["f1", "f2", "f3", "g1", "g2", "f1", "unknown"].map((runId) => q.ack(runId)));
      expect(acked).toEqual([true, true, true, true, true, false, false]);
      const ops = run.mock.calls.map((call) => call[1]).filter((op) => op === "ack" || op === "ackMany");
      expect(ops).toEqual(["ackMany", "ackMany"]);
    } finally {
      run.mockRestore();
    }
    expect(await q.stats({ envId: "ef" })).toEqual({ queued: 0, inFlight: 0, limit: null });
    expect(await q.stats({ envId: "eg" })).toEqual({ queued: 0, inFlight: 0, limit: null });
    const left = Object.keys(await leftoverState(redis, setup.prefix)).filter((key) => key.includes("{env:ef}") || key.includes("{env:eg}"));
    expect(left).toEqual([]);
  });
});
