import { afterAll, describe, expect, it } from "vitest";
import { ackScript } from "../commands/ack.ts";
import type { CommandContext } from "../commands/context.ts";
import { dequeueIndexedScript, dequeueScript } from "../commands/dequeue.ts";
import { shardUpdateScript } from "../commands/shardUpdate.ts";
import { RunQueueKeys } from "../keys.ts";
import { runQueueScripts } from "../scriptLoader.ts";
import { clusterNodes, TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("shard-race");
afterAll(() => setup.teardown());

describe("shard index updates (shardUpdate-6.lua, dequeueIndexed-12.lua)", () => {
  it("applies only the newest env state when updates arrive out of order", async () => {
    const q = setup.queue({ shards: 1 });
    const scripts = runQueueScripts();
    const ctx: CommandContext = { redis: setup.redis, keys: new RunQueueKeys(setup.prefix, 1), scripts };
    const shard = ctx.keys.shardKeys(0);
    await q.setConcurrencyLimit({ envId: "e", limit: 1 });
    await q.enqueueMany(["r1", "r2"].map((runId) => ({ runId, orgId: "o", envId: "e", queue: "jobs" })));

    // Consumer A dequeues the last slot: its state says "not runnable". Before A's index update
    // arrives, consumer B acks that run: "runnable", and B's update lands first.
    const now = Date.now();
    const a = await dequeueScript(ctx, "e", now, 1, now + 60_000, "A");
    expect(a.state.runnable).toBe(false);
    const b = await ackScript(ctx, "e", now, a.messages[0]!.runId);
    expect(b.state.runnable).toBe(true);
    expect(b.state.ver).toBeGreaterThan(a.state.ver);
    await shardUpdateScript(ctx, 0, 0, [{ state: b.state, served: 0 }]);
    await shardUpdateScript(ctx, 0, 0, [{ state: a.state, served: 1 }]);

    // A's stale "not runnable" must not strand the env: it stays indexed and its run is served.
    expect(await setup.redis.zscore(shard.envs, "e")).not.toBeNull();
    expect(await setup.redis.hget(shard.ver, "e")).toBe(String(b.state.ver));
    expect((await q.dequeue({ consumerId: "C", maxCount: 5 })).map((m) => m.runId)).toEqual(["r2"]);
  });

  it("counts served runs even from a stale update, so an env cannot gain share from a race", async () => {
    const ctx: CommandContext = { redis: setup.redis, keys: new RunQueueKeys(`${setup.prefix}vt:`, 1), scripts: runQueueScripts() };
    const shard = ctx.keys.shardKeys(0);
    const state = { envId: "x", runnable: true, nextAt: 0, inflightMin: 0, idle: false, changed: true };
    await shardUpdateScript(ctx, 0, 0, [{ state: { ...state, ver: 2 }, served: 0 }]);
    await shardUpdateScript(ctx, 0, 0, [{ state: { ...state, ver: 1 }, served: 4 }]);
    expect(await setup.redis.zscore(shard.envs, "x")).toBe("4");
  });

  // A function may use keys of different slots only on a single Redis, where the queue calls it.
  it.skipIf(Boolean(clusterNodes?.length))("leaves the index as a dequeue followed by its shard update does, in one call", async () => {
    const now = 10_000_000;
    const clock = new TestClock(now);
    const forms = ["separate", "indexed"].map((form) => {
      const keyPrefix = `${setup.prefix}${form}:`;
      const ctx: CommandContext = { redis: setup.redis, keys: new RunQueueKeys(keyPrefix, 1), scripts: runQueueScripts() };
      return { ctx, queue: setup.queue({ keyPrefix, shards: 1, clock: clock.read }) };
    });
    const indexOf = async (ctx: CommandContext) => {
      const shard = ctx.keys.shardKeys(0);
      const redis = setup.redis;
      return {
        envs: await redis.zscore(shard.envs, "e"),
        timers: await redis.zscore(shard.timers, "e"),
        inflight: await redis.zscore(shard.inflight, "e"),
        ver: await redis.hget(shard.ver, "e"),
        vt: await redis.hget(shard.vt, "e"),
        clock: await redis.get(shard.clock),
      };
    };
    for (const { queue } of forms) {
      await queue.setConcurrencyLimit({ envId: "e", limit: 2 });
      await queue.enqueueMany(["r1", "r2", "r3"].map((runId) => ({ runId, orgId: "o", envId: "e", queue: "jobs" })));
      await queue.enqueue({ runId: "later", orgId: "o", envId: "e", queue: "later", availableAt: now + 60_000 });
    }
    // served and not runnable (the env limit), then nothing served, then runnable again after an ack
    for (const step of [1, 2, 3]) {
      if (step === 3) for (const { queue } of forms) await queue.ack("r1");
      const separate = forms[0]!.ctx;
      const dequeued = await dequeueScript(separate, "e", now + step, 1, now + 30_000, "c");
      if (dequeued.state.changed || dequeued.messages.length > 0) {
        await shardUpdateScript(separate, 0, 0, [{ state: dequeued.state, served: dequeued.messages.length }]);
      }
      const indexed = await dequeueIndexedScript(forms[1]!.ctx, "e", now + step, 1, now + 30_000, "c", 0);
      expect(indexed).toEqual(dequeued.messages);
      expect(await indexOf(forms[1]!.ctx)).toEqual(await indexOf(separate));
    }
    // at the env limit again: out of the fair set, waiting in the timers for the later run
    expect(await indexOf(forms[1]!.ctx)).toMatchObject({ envs: null, timers: String(now + 60_000) });
  });
});
