import { afterAll, describe, expect, it } from "vitest";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("release");
afterAll(() => setup.teardown());

describe("release (release-7.lua) and reacquire (reacquire-7.lua)", () => {
  it("release frees the slot for others; reacquire takes one back only when a limit allows", async () => {
    const q = setup.queue();
    const { redis } = setup;
    await q.setConcurrencyLimit({ envId: "ea", queue: "jobs", limit: 1 });
    await q.enqueueMany(["a1", "a2"].map((runId) => ({ runId, orgId: "org", envId: "ea", queue: "jobs" })));
    await q.dequeue({ consumerId: "c", maxCount: 5 });
    await q.release("a1");
    expect(await redis.hget(q.keys.run("ea", "a1"), "st")).toBe("r");
    expect(await redis.zscore(q.keys.envKeys("ea").inflight, "a1")).toBeNull();
    expect(await q.release("a1")).toBeUndefined();
    const [other] = await q.dequeue({ consumerId: "c", maxCount: 5 });
    expect(other?.runId).toBe("a2");
    expect(await q.reacquire("a1")).toEqual({ acquired: false, blockedBy: "queue" });
    await q.ack("a2");
    expect(await q.reacquire("a1")).toEqual({ acquired: true });
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 0, inFlight: 1, limit: 1 });
    expect(await q.reacquire("a1")).toEqual({ acquired: true });
    expect(await q.stats({ envId: "ea", queue: "jobs" })).toEqual({ queued: 0, inFlight: 1, limit: 1 });
  });

  it("reacquire names the env limit and the concurrency key limit", async () => {
    const q = setup.queue();
    await q.setConcurrencyLimit({ envId: "eb", queue: "keyed", limit: 1 });
    await q.enqueueMany(["b1", "b2"].map((runId) => ({ runId, orgId: "org", envId: "eb", queue: "keyed", concurrencyKey: "k" })));
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    await q.release("b1");
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["eb"] });
    expect(await q.reacquire("b1")).toEqual({ acquired: false, blockedBy: "concurrencyKey" });
    await q.setConcurrencyLimit({ envId: "eb", limit: 1 });
    await q.setConcurrencyLimit({ envId: "eb", queue: "keyed", limit: null });
    expect(await q.reacquire("b1")).toEqual({ acquired: false, blockedBy: "environment" });
  });

  it("enqueue of a released run queues it again, keeping its attempt count", async () => {
    const q = setup.queue();
    await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs", attempt: 2 });
    await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] });
    await q.release("c1");
    expect(await q.enqueue({ runId: "c1", orgId: "org", envId: "ec", queue: "jobs" })).toBe("requeued");
    const [again] = await q.dequeue({ consumerId: "c", maxCount: 1, envIds: ["ec"] });
    expect(again).toMatchObject({ runId: "c1", attempt: 2 });
  });

  it("refuses unknown runs and runs in the wrong state", async () => {
    const q = setup.queue();
    await expect(q.release("nope")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await expect(q.reacquire("nope")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await q.enqueue({ runId: "d1", orgId: "org", envId: "ed", queue: "jobs" });
    await expect(q.release("d1")).rejects.toMatchObject({ code: "RUN_NOT_IN_FLIGHT" });
    await expect(q.reacquire("d1")).rejects.toMatchObject({ code: "RUN_NOT_RELEASED" });
  });
});
