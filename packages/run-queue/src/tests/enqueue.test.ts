import { afterAll, describe, expect, it } from "vitest";
import { RunQueueError } from "../index.ts";
import { clusterNodes, TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("enqueue");
afterAll(() => setup.teardown());

describe("enqueue (enqueue-6.lua)", () => {
  it("tells onEnqueued which envs got new runs, once the runs are there and before enqueue returns", async () => {
    const heard: { envIds: readonly string[]; ownEnv: Promise<string[]>; anyEnv: Promise<string[]> }[] = [];
    const q = setup.queue({
      onEnqueued: (envIds) => {
        heard.push({
          envIds,
          // what a consumer woken at this moment would dequeue
          ownEnv: q.dequeue({ consumerId: "woken", maxCount: 10, envIds: ["eo1"] }).then((runs) => runs.map((run) => run.runId)),
          anyEnv: q.dequeue({ consumerId: "woken", maxCount: 10, envIds: ["eo2", "eo3"] }).then((runs) => runs.map((run) => run.runId)),
        });
      },
    });
    await q.enqueueMany([
      { runId: "o1", orgId: "org", envId: "eo1", queue: "jobs" },
      { runId: "o2", orgId: "org", envId: "eo2", queue: "jobs" },
    ]);
    expect(heard).toHaveLength(1);
    expect([...heard[0]!.envIds].sort()).toEqual(["eo1", "eo2"]);
    expect(await heard[0]!.ownEnv).toEqual(["o1"]);
    // several envs go through the index, which a single Redis has applied by then
    if (!clusterNodes?.length) expect(await heard[0]!.anyEnv).toEqual(["o2"]);
    else await heard[0]!.anyEnv;

    // a run that exists already is no news
    expect(await q.enqueue({ runId: "o1", orgId: "org", envId: "eo1", queue: "jobs" })).toBe("exists");
    expect(heard).toHaveLength(1);
  });

  it("stores the run, places it in its lane by priority score and counts it", async () => {
    const clock = new TestClock(1_000_000);
    const q = setup.queue({ clock: clock.read });
    const { redis } = setup;
    expect(await q.enqueue({ runId: "a1", orgId: "org", envId: "ea", queue: "q:1", priority: 5 })).toBe("created");
    const run = await redis.hgetall(q.keys.run("ea", "a1"));
    expect(run).toMatchObject({ st: "q", o: "org", p: "5", a: "1000000", s: String(1_000_000 - 5000), n: "0" });
    expect(await redis.zscore(q.keys.lane("ea", "q:1", undefined, "ready"), "a1")).toBe(String(1_000_000 - 5000));
    expect(await redis.hget(q.keys.envKeys("ea").meta, "queued")).toBe("1");
    expect(await redis.hget(q.keys.queue("ea", "q:1", "meta"), "queued")).toBe("1");
    expect(await redis.zscore(q.keys.envKeys("ea").queues, "q%3A1")).not.toBeNull();
    expect(await redis.zscore(q.keys.shardKeys(q.keys.shardOf("ea")).envs, "ea")).not.toBeNull();
    expect(await redis.get(q.keys.locator("a1"))).toBe("ea");
  });

  it("is idempotent per run id", async () => {
    const q = setup.queue();
    const message = { runId: "b1", orgId: "org", envId: "eb", queue: "default" };
    expect(await q.enqueue(message)).toBe("created");
    expect(await q.enqueue({ ...message, priority: 100 })).toBe("exists");
    expect(await q.stats({ envId: "eb" })).toEqual({ queued: 1, inFlight: 0, limit: null });
    expect(await setup.redis.hget(q.keys.run("eb", "b1"), "p")).toBe("0");
  });

  it("keeps a future run in the lane's delayed set, out of the candidates, with an env timer", async () => {
    const clock = new TestClock(2_000_000);
    const q = setup.queue({ clock: clock.read });
    const { redis } = setup;
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "later", availableAt: 2_005_000 });
    expect(await redis.zscore(q.keys.lane("ec", "later", undefined, "delayed"), "c1")).toBe("2005000");
    expect(await redis.zcard(q.keys.envKeys("ec").queues)).toBe(0);
    expect(await redis.zscore(q.keys.envKeys("ec").timers, "l:later:")).toBe("2005000");
    const shard = q.keys.shardKeys(q.keys.shardOf("ec"));
    expect(await redis.zscore(shard.envs, "ec")).toBeNull();
    expect(await redis.zscore(shard.timers, "ec")).toBe("2005000");
    expect(await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] })).toEqual([]);
    clock.advance(5_000);
    expect((await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] })).map((m) => m.runId)).toEqual(["c1"]);
  });

  it("enqueues many runs of many envs in one call and reports each result", async () => {
    const q = setup.queue();
    const messages = Array.from({ length: 1200 }, (_, i) => ({ runId: `d${i}`, orgId: "org", envId: `ed${i % 3}`, queue: `q${i % 7}` }));
    const results = await q.enqueueMany([...messages, messages[0]!]);
    expect(results.filter((r) => r === "created")).toHaveLength(1200);
    expect(results[1200]).toBe("exists");
    for (let e = 0; e < 3; e++) expect((await q.stats({ envId: `ed${e}` })).queued).toBe(400);
  });

  it("refuses a run id that belongs to another env, before queuing anything", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "x1", orgId: "org", envId: "ex", queue: "default" });
    const error = await q
      .enqueueMany([
        { runId: "x2", orgId: "org", envId: "ey", queue: "default" },
        { runId: "x1", orgId: "org", envId: "ey", queue: "default" },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunQueueError);
    expect((error as RunQueueError).code).toBe("RUN_ENV_CONFLICT");
    expect((await q.stats({ envId: "ey" })).queued).toBe(0);
  });

  it("validates its input", async () => {
    const q = setup.queue();
    for (const bad of [
      { runId: "", orgId: "o", envId: "e", queue: "q" },
      { runId: "r", orgId: "o", envId: "e", queue: "q", priority: 86_401 },
      { runId: "r", orgId: "o", envId: "e", queue: "q", priority: 1.5 },
    ]) {
      await expect(q.enqueue(bad)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });

  it("adds runs behind a runnable lane without a new env state, and versions one that changes it", async () => {
    const clock = new TestClock(40_000_000);
    const q = setup.queue({ clock: clock.read });
    const { redis } = setup;
    const meta = q.keys.envKeys("ev").meta;
    await q.enqueue({ runId: "v1", orgId: "org", envId: "ev", queue: "jobs" });
    const [ver, sig] = await redis.hmget(meta, "ver", "sig");
    await q.enqueueMany(["v2", "v3"].map((runId) => ({ runId, orgId: "org", envId: "ev", queue: "jobs" })));
    expect(await redis.hmget(meta, "ver", "sig")).toEqual([ver, sig]);
    expect(await q.stats({ envId: "ev", queue: "jobs" })).toEqual({ queued: 3, inFlight: 0, limit: null });
    expect(await q.stats({ envId: "ev" })).toEqual({ queued: 3, inFlight: 0, limit: null });
    // A future run sets a timer: the state's nextAt changes, so it gets a version.
    await q.enqueue({ runId: "v4", orgId: "org", envId: "ev", queue: "later", availableAt: clock.now + 60_000 });
    expect(Number(await redis.hget(meta, "ver"))).toBeGreaterThan(Number(ver));
    expect(await redis.hget(meta, "sig")).toMatch(/^1:40060000:0\|/);
  });
});
