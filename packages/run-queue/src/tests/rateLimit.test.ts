import { afterAll, describe, expect, it } from "vitest";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("rate");
afterAll(() => setup.teardown());

describe("rate limits (setRateLimit-6.lua)", () => {
  it("allows `limit` dequeues per period, takes the queue out of the candidates in between, and brings it back on time", async () => {
    const clock = new TestClock(1_000_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}a:`, clock: clock.read });
    const { redis } = setup;
    await q.setRateLimit({ envId: "e", queue: "api", limit: 3, periodMs: 3_000 });
    await q.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ runId: `a${i}`, orgId: "o", envId: "e", queue: "api" })));
    await q.enqueue({ runId: "other", orgId: "o", envId: "e", queue: "free" });
    const first = await q.dequeue({ consumerId: "c", maxCount: 10 });
    expect(first.filter((m) => m.queue === "api")).toHaveLength(3);
    // Used up: the queue is not a candidate but waits on a timer for its next allowed time.
    expect(await redis.zscore(q.keys.envKeys("e").queues, "api")).toBeNull();
    expect(await redis.zscore(q.keys.envKeys("e").timers, "q:api")).toBe("1000001000");
    const explained = await q.explain("a3");
    expect(explained.state === "queued" && explained.blockedBy).toEqual(["rate"]);
    expect(explained.state === "queued" && explained.rateAllowedAt).toBe(1_000_001_000);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toEqual([]);
    clock.advance(1_000);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
    clock.advance(1_999);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
    clock.advance(1);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
  });

  it("with perKey, each concurrency key has its own rate", async () => {
    const clock = new TestClock(2_000_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}b:`, clock: clock.read });
    await q.setRateLimit({ envId: "e", queue: "api", limit: 2, periodMs: 10_000, perKey: true });
    await q.enqueueMany(
      Array.from({ length: 12 }, (_, i) => ({ runId: `b${i}`, orgId: "o", envId: "e", queue: "api", concurrencyKey: `k${i % 3}` })),
    );
    const got = await q.dequeue({ consumerId: "c", maxCount: 12 });
    expect(got).toHaveLength(6);
    expect(new Set(got.map((m) => m.concurrencyKey))).toEqual(new Set(["k0", "k1", "k2"]));
    expect(await setup.redis.zcard(q.keys.queue("e", "api", "lanes"))).toBe(0);
    clock.advance(5_000);
    expect(await q.dequeue({ consumerId: "c", maxCount: 12 })).toHaveLength(3);
  });

  it("clearing the rate takes effect at the next dequeue", async () => {
    const clock = new TestClock(3_000_000_000);
    const q = setup.queue({ keyPrefix: `${setup.prefix}c:`, clock: clock.read });
    await q.setRateLimit({ envId: "e", queue: "api", limit: 1, periodMs: 60_000 });
    await q.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ runId: `c${i}`, orgId: "o", envId: "e", queue: "api" })));
    expect(await q.dequeue({ consumerId: "c", maxCount: 4 })).toHaveLength(1);
    await q.setRateLimit({ envId: "e", queue: "api", limit: null });
    expect(await q.dequeue({ consumerId: "c", maxCount: 4 })).toHaveLength(3);
  });

  it("validates the rate", async () => {
    const q = setup.queue();
    await expect(q.setRateLimit({ envId: "e", queue: "api", limit: 0, periodMs: 1000 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    await expect(q.setRateLimit({ envId: "e", queue: "api", limit: 1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
