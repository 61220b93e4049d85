import { afterAll, describe, expect, it, vi } from "vitest";
import { ScriptRegistry } from "../scriptLoader.ts";
import { clusterNodes, TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("dequeue");
afterAll(() => setup.teardown());

describe("dequeue (dequeue-6.lua, dequeueIndexed-12.lua, shardPeek-6.lua, shardUpdate-6.lua)", () => {
  it("returns nothing from an empty queue", async () => {
    const q = setup.queue();
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toEqual([]);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["nobody"] })).toEqual([]);
  });

  it("for given envs, stops after the round that ran them dry, without peeking again", async () => {
    // one shard: one peek per round
    const q = setup.queue({ shards: 1 });
    await q.enqueueMany(["dry1", "dry2"].map((runId, i) => ({ runId, orgId: "org", envId: `edry${i}`, queue: "jobs" })));
    const run = vi.spyOn(ScriptRegistry.prototype, "run");
    try {
      expect((await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["edry0", "edry1"] })).map((m) => m.runId).sort()).toEqual(["dry1", "dry2"]);
      const ops = run.mock.calls.map((call) => call[1]);
      expect(ops.filter((op) => op === "shardPeek")).toHaveLength(1);
      expect(ops.filter((op) => op === "dequeue")).toHaveLength(2);
    } finally {
      run.mockRestore();
    }
  });

  it("for one env, runs its script alone: no peek at the index, one call that updates the index too (two on a cluster), and the index follows", async () => {
    const q = setup.queue();
    await q.enqueueMany(["one1", "one2", "one3"].map((runId) => ({ runId, orgId: "org", envId: "eone", queue: "jobs" })));
    const run = vi.spyOn(ScriptRegistry.prototype, "run");
    try {
      expect((await q.dequeue({ consumerId: "c", maxCount: 2, envIds: ["eone"] })).map((m) => m.runId)).toEqual(["one1", "one2"]);
      expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["eone", "eone"] })).toMatchObject([{ runId: "one3" }]);
      expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["eone"] })).toEqual([]);
      const ops = run.mock.calls.map((call) => call[1]);
      expect(ops.filter((op) => op === "shardPeek")).toHaveLength(0);
      // On a cluster the env's keys and the index's are in different slots: a shardUpdate follows.
      if (clusterNodes?.length) {
        expect(ops.filter((op) => op === "dequeue")).toHaveLength(3);
        expect(ops.filter((op) => op === "dequeueIndexed")).toHaveLength(0);
      } else {
        expect(ops.filter((op) => op === "dequeueIndexed")).toHaveLength(3);
        expect(ops.filter((op) => op === "dequeue" || op === "shardUpdate")).toHaveLength(0);
      }
    } finally {
      run.mockRestore();
    }
    // The env ran dry through its own script: the index no longer offers it to a dequeue of any env.
    await q.enqueue({ runId: "other1", orgId: "org", envId: "eother", queue: "jobs" });
    expect((await q.dequeue({ consumerId: "c", maxCount: 10 })).map((m) => m.runId)).toEqual(["other1"]);
  });

  it("puts each run in flight: slot held in env, queue and lane, deadline set, consumer recorded", async () => {
    const clock = new TestClock(10_000_000);
    const q = setup.queue({ clock: clock.read, visibilityTimeoutMs: 30_000 });
    const { redis } = setup;
    await q.enqueue({ runId: "a1", orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "user:1", priority: 3 });
    const [message] = await q.dequeue({ consumerId: "worker-1", maxCount: 10 });
    expect(message).toEqual({
      runId: "a1",
      orgId: "org",
      envId: "ea",
      queue: "jobs",
      concurrencyKey: "user:1",
      priority: 3,
      availableAt: 10_000_000,
      attempt: 0,
      deadline: 10_030_000,
    });
    expect(await redis.zscore(q.keys.envKeys("ea").inflight, "a1")).toBe("10030000");
    expect(await redis.sismember(q.keys.queue("ea", "jobs", "inflight"), "a1")).toBe(1);
    expect(await redis.sismember(q.keys.lane("ea", "jobs", "user:1", "inflight"), "a1")).toBe(1);
    expect(await redis.hmget(q.keys.run("ea", "a1"), "st", "c", "d")).toEqual(["f", "worker-1", "10030000"]);
    expect(await q.stats({ envId: "ea", queue: "jobs", concurrencyKey: "user:1" })).toEqual({ queued: 0, inFlight: 1, limit: null });
    // Nothing left to run: the env left the shard index and is listed for reclaim instead.
    const shard = q.keys.shardKeys(q.keys.shardOf("ea"));
    expect(await redis.zscore(shard.envs, "ea")).toBeNull();
    expect(await redis.zscore(shard.inflight, "ea")).toBe("10030000");
  });

  it("takes at most maxCount runs, and all of them with a large maxCount", async () => {
    const q = setup.queue();
    await q.enqueueMany(Array.from({ length: 30 }, (_, i) => ({ runId: `b${i}`, orgId: "org", envId: "eb", queue: `q${i % 3}` })));
    expect(await q.dequeue({ consumerId: "c", maxCount: 7, envIds: ["eb"] })).toHaveLength(7);
    expect(await q.dequeue({ consumerId: "c", maxCount: 0, envIds: ["eb"] })).toHaveLength(0);
    expect(await q.dequeue({ consumerId: "c", maxCount: 100, envIds: ["eb"] })).toHaveLength(23);
    expect(await q.stats({ envId: "eb" })).toEqual({ queued: 0, inFlight: 30, limit: null });
  });

  it("hands out nothing under a limit of 0, and nothing from a paused queue", async () => {
    const q = setup.queue();
    await q.setConcurrencyLimit({ envId: "ec", queue: "zero", limit: 0 });
    await q.pause({ envId: "ec", queue: "paused" });
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "zero" });
    await q.enqueue({ runId: "c2", orgId: "org", envId: "ec", queue: "paused" });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ec"] })).toEqual([]);
    expect(await setup.redis.zcard(q.keys.envKeys("ec").queues)).toBe(0);
    await q.setConcurrencyLimit({ envId: "ed", limit: 0 });
    await q.enqueue({ runId: "d1", orgId: "org", envId: "ed", queue: "any" });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ed"] })).toEqual([]);
    expect(await setup.redis.zscore(q.keys.shardKeys(q.keys.shardOf("ed")).envs, "ed")).toBeNull();
  });

  it("serves only the envs of the filter", async () => {
    const q = setup.queue();
    await q.enqueueMany(["ef1", "ef2", "ef3"].map((envId) => ({ runId: `f-${envId}`, orgId: "org", envId, queue: "default" })));
    const got = await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["ef2", "ef3"] });
    expect(got.map((m) => m.envId).sort()).toEqual(["ef2", "ef3"]);
    expect((await q.stats({ envId: "ef1" })).queued).toBe(1);
  });

  it("versions the env state only when it changed; the served count reaches the index either way", async () => {
    const clock = new TestClock(20_000_000);
    const q = setup.queue({ clock: clock.read, shards: 1 });
    const { redis } = setup;
    const shard = q.keys.shardKeys(0);
    await q.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ runId: `g${i}`, orgId: "org", envId: "eg", queue: "jobs" })));
    await q.dequeue({ consumerId: "c", maxCount: 2, envIds: ["eg"] });
    const score = Number(await redis.zscore(shard.envs, "eg"));
    const ver = await redis.hget(shard.ver, "eg");
    const meta = await redis.hmget(q.keys.envKeys("eg").meta, "ver", "sig");
    // Same state (runnable, no timers, runs in flight) within the second: no new version anywhere.
    await q.dequeue({ consumerId: "c", maxCount: 3, envIds: ["eg"] });
    expect(await redis.hmget(q.keys.envKeys("eg").meta, "ver", "sig")).toEqual(meta);
    expect(await redis.hget(shard.ver, "eg")).toBe(ver);
    expect(Number(await redis.zscore(shard.envs, "eg"))).toBe(score + 3);
    // Draining it changes the state: versioned and applied, the env leaves the index.
    expect(await q.dequeue({ consumerId: "c", maxCount: 10, envIds: ["eg"] })).toHaveLength(5);
    expect(Number(await redis.hget(shard.ver, "eg"))).toBeGreaterThan(Number(ver));
    expect(await redis.zscore(shard.envs, "eg")).toBeNull();
  });

  it("keeps a lane whose due runs outnumber one promotion batch, and hands them out in order", async () => {
    const clock = new TestClock(30_000_000);
    const q = setup.queue({ clock: clock.read });
    const runs = Array.from({ length: 150 }, (_, i) => ({ runId: `h${i}`, orgId: "org", envId: "eh", queue: "jobs", availableAt: clock.now + 1_000 + i }));
    await q.enqueueMany(runs);
    clock.advance(2_000);
    const got = await q.dequeue({ consumerId: "c", maxCount: 200, envIds: ["eh"] });
    expect(got.map((m) => m.runId)).toEqual(runs.map((r) => r.runId));
    expect(await q.stats({ envId: "eh", queue: "jobs" })).toEqual({ queued: 0, inFlight: 150, limit: null });
  });
});
