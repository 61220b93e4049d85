import { afterAll, describe, expect, it } from "vitest";
import { RunQueueKeys, decodeName, encodeName } from "../keys.ts";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("keys");
afterAll(() => setup.teardown());

describe("keys", () => {
  it("builds every key under the prefix, env keys with the env's hash tag", () => {
    const keys = new RunQueueKeys("p:", 4);
    expect(keys.envKeys("env1")).toEqual({
      meta: "p:{env:env1}:meta",
      queues: "p:{env:env1}:queues",
      timers: "p:{env:env1}:timers",
      qvt: "p:{env:env1}:qvt",
      inflight: "p:{env:env1}:inflight",
      dead: "p:{env:env1}:dead",
    });
    expect(keys.run("env1", "r1")).toBe("p:{env:env1}:run:r1");
    expect(keys.queue("env1", "q", "meta")).toBe("p:{env:env1}:q:q:meta");
    expect(keys.lane("env1", "q", undefined, "ready")).toBe("p:{env:env1}:q:q:l::ready");
    expect(keys.lane("env1", "q", "k", "inflight")).toBe("p:{env:env1}:q:q:l:k:inflight");
    expect(keys.locator("r1")).toBe("p:loc:r1");
    expect(keys.shardKeys(3).envs).toBe("p:{shard:3}:envs");
  });

  it("escapes separators and braces so names cannot collide or break the hash tag", () => {
    const keys = new RunQueueKeys("p:", 1);
    expect(encodeName("a:b{c}%d")).toBe("a%3Ab%7Bc%7D%25d");
    expect(decodeName(encodeName("a:b{c}%d ü"))).toBe("a:b{c}%d ü");
    expect(keys.envBase("x}y")).toBe("p:{env:x%7Dy}:");
    // queue "a:l:b" must not be lane "b" of queue "a"
    expect(keys.lane("e", "a:l:b", undefined, "ready")).not.toBe(keys.lane("e", "a", "b", "ready"));
  });

  it("assigns each env to a stable shard in range", () => {
    const keys = new RunQueueKeys("p:", 7);
    const shards = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const shard = keys.shardOf(`env${i}`);
      expect(shard).toBeGreaterThanOrEqual(0);
      expect(shard).toBeLessThan(7);
      expect(new RunQueueKeys("other:", 7).shardOf(`env${i}`)).toBe(shard);
      shards.add(shard);
    }
    expect(shards.size).toBe(7);
  });

  it("refuses a prefix with braces", () => {
    expect(() => new RunQueueKeys("p{x}:", 1)).toThrow(/keyPrefix/);
  });

  it("agrees with the keys the Lua scripts build themselves (lua/includes/keys.lua)", async () => {
    const q = setup.queue();
    const { redis } = setup;
    const queue = "odd:queue{1}";
    const key = "user:42%";
    await q.setConcurrencyLimit({ envId: "e:1", queue, limit: 1 });
    await q.enqueueMany(["r1", "r2"].map((runId) => ({ runId, orgId: "o", envId: "e:1", queue, concurrencyKey: key })));
    await q.dequeue({ consumerId: "c", maxCount: 5 });
    expect(await redis.zrange(q.keys.lane("e:1", queue, key, "ready"), 0, -1)).toEqual(["r2"]);
    expect(await redis.smembers(q.keys.lane("e:1", queue, key, "inflight"))).toEqual(["r1"]);
    expect(await redis.smembers(q.keys.queue("e:1", queue, "inflight"))).toEqual(["r1"]);
    expect(await redis.smembers(q.keys.queue("e:1", queue, "blocked"))).toEqual([encodeName(key)]);
    expect(await redis.hget(q.keys.queue("e:1", queue, "meta"), "limit")).toBe("1");
    expect(await redis.hget(q.keys.run("e:1", "r1"), "st")).toBe("f");
  });
});
