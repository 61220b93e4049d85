import { afterAll, describe, expect, it } from "vitest";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("pause");
afterAll(() => setup.teardown());

describe("pause and resume (setPaused-6.lua)", () => {
  it("a paused queue leaves the candidates at once and returns on resume; other queues go on", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.enqueueMany(Array.from({ length: 4 }, (_, i) => ({ runId: `a${i}`, orgId: "o", envId: "e", queue: i < 2 ? "held" : "free" })));
    await q.pause({ envId: "e", queue: "held" });
    expect(await redis.zscore(q.keys.envKeys("e").queues, "held")).toBeNull();
    expect((await q.dequeue({ consumerId: "c", maxCount: 10 })).map((m) => m.queue)).toEqual(["free", "free"]);
    const explained = await q.explain("a0");
    expect(explained.state === "queued" && explained.blockedBy).toEqual(["paused"]);
    expect(await redis.zscore(q.keys.shardKeys(q.keys.shardOf("e")).envs, "e")).toBeNull();
    await q.resume({ envId: "e", queue: "held" });
    expect((await q.dequeue({ consumerId: "c", maxCount: 10 })).map((m) => m.runId)).toEqual(["a0", "a1"]);
  });

  it("pausing or resuming an unknown queue is harmless", async () => {
    const q = setup.queue();
    await q.pause({ envId: "nobody", queue: "nothing" });
    await q.resume({ envId: "nobody", queue: "nothing" });
    expect(await q.stats({ envId: "nobody", queue: "nothing" })).toEqual({ queued: 0, inFlight: 0, limit: null });
  });
});
