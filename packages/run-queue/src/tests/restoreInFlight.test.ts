import { afterAll, describe, expect, it } from "vitest";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("restoreInFlight");
afterAll(() => setup.teardown());

describe("restoreInFlight (restoreInFlight-7.lua)", () => {
  it("puts an unknown run in flight with its slot, counted against the limits, and ack frees it", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", queue: "jobs", limit: 1 });
    expect(await q.restoreInFlight({ runId: "a1", orgId: "org", envId: "ea", queue: "jobs", consumerId: "w1" })).toBe(true);
    expect(await redis.hget(q.keys.run("ea", "a1"), "st")).toBe("f");
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 0, inFlight: 1, limit: 1 });
    expect(await q.stats({ envId: "ea" })).toMatchObject({ inFlight: 1 });
    await q.enqueue({ runId: "a2", orgId: "org", envId: "ea", queue: "jobs" });
    expect(await q.dequeue({ consumerId: "c", maxCount: 5 })).toEqual([]);
    expect(await q.explain("a2")).toMatchObject({ state: "queued" });
    expect(await q.ack("a1")).toBe(true);
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 1, inFlight: 0, limit: 1 });
    const [next] = await q.dequeue({ consumerId: "c", maxCount: 5 });
    expect(next?.runId).toBe("a2");
  });

  it("leaves a run it already knows alone, whatever its state", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    expect(await q.restoreInFlight({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs", consumerId: "w1" })).toBe(false);
    expect(await q.stats({ envId: "eb", queue: "jobs" })).toMatchObject({ queued: 1, inFlight: 0 });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    expect(await q.restoreInFlight({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs", consumerId: "w1" })).toBe(false);
    expect(await q.stats({ envId: "eb", queue: "jobs" })).toMatchObject({ queued: 0, inFlight: 1 });
  });

  it("a restored run whose holder dies is reclaimed like a dequeued one, in its concurrency key's lane", async () => {
    let now = 1_000_000;
    const q = setup.queue({ clock: () => now, visibilityTimeoutMs: 1_000 });
    expect(await q.restoreInFlight({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs", concurrencyKey: "k", consumerId: "w1" })).toBe(true);
    expect(await q.stats({ envId: "ec", queue: "jobs", concurrencyKey: "k" })).toMatchObject({ inFlight: 1 });
    now += 2_000;
    const reclaimed = await q.reclaimExpired();
    expect(reclaimed.runIds).toEqual(["c1"]);
    const [again] = await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] });
    expect(again).toMatchObject({ runId: "c1", concurrencyKey: "k" });
  });

  it("refuses a run id that belongs to another env", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "d1", orgId: "org", envId: "ed", queue: "jobs" });
    await expect(q.restoreInFlight({ runId: "d1", orgId: "org", envId: "other", queue: "jobs", consumerId: "w1" })).rejects.toMatchObject({
      code: "RUN_ENV_CONFLICT",
    });
  });
});

describe("claimRebuild / markBuilt", () => {
  it("one caller at a time gets the rebuild of a queue with no record of being built; a dead one's lease runs out", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await redis.del(q.keys.builtMarker());
    expect(await q.claimRebuild(200)).toBe(true);
    expect(await q.claimRebuild(200)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await q.claimRebuild(60_000)).toBe(true);
    await q.markBuilt();
    expect(await redis.pttl(q.keys.builtMarker())).toBe(-1);
    expect(await q.claimRebuild(60_000)).toBe(false);
    await redis.del(q.keys.builtMarker());
    expect(await q.claimRebuild(60_000)).toBe(true);
  });
});
