import { afterAll, describe, expect, it } from "vitest";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("explain");
afterAll(() => setup.teardown());

describe("explain (explain-7.lua)", () => {
  it("gives the position in the lane and nothing blocking for a run waiting its turn", async () => {
    const clock = new TestClock(9_000_000);
    const q = setup.queue({ clock: clock.read });
    await q.enqueueMany(["a0", "a1", "a2"].map((runId) => ({ runId, orgId: "org", envId: "ea", queue: "jobs" })));
    expect(await q.explain("a2")).toEqual({
      runId: "a2",
      state: "queued",
      message: { runId: "a2", orgId: "org", envId: "ea", queue: "jobs", priority: 0, availableAt: 9_000_000, attempt: 0 },
      position: 2,
      blockedBy: [],
      rateAllowedAt: null,
      consumerId: null,
      deadline: null,
    });
  });

  it("names every limit that holds a run back", async () => {
    const clock = new TestClock(9_000_000);
    const q = setup.queue({ clock: clock.read });
    await q.setConcurrencyLimit({ envId: "eb", limit: 1 });
    await q.setConcurrencyLimit({ envId: "eb", queue: "jobs", limit: 1 });
    await q.enqueueMany(["b0", "b1"].map((runId) => ({ runId, orgId: "org", envId: "eb", queue: "jobs" })));
    await q.enqueue({ runId: "b2", orgId: "org", envId: "eb", queue: "keyed", concurrencyKey: "k" });
    await q.enqueue({ runId: "b3", orgId: "org", envId: "eb", queue: "jobs", availableAt: 9_500_000 });
    const [taken] = await q.dequeue({ consumerId: "worker", maxCount: 1, envIds: ["eb"] });
    expect(taken?.runId).toBe("b0");
    const b1 = await q.explain("b1");
    expect(b1.state === "queued" && b1.blockedBy).toEqual(["environment", "queue"]);
    const b2 = await q.explain("b2");
    expect(b2.state === "queued" && b2.blockedBy).toEqual(["environment"]);
    const b3 = await q.explain("b3");
    expect(b3.state === "queued" && [b3.position, b3.blockedBy]).toEqual([null, ["notYetAvailable", "environment", "queue"]]);
    const b0 = await q.explain("b0");
    expect(b0).toMatchObject({ state: "inFlight", consumerId: "worker", deadline: 9_000_000 + 300_000, blockedBy: [] });
  });

  it("says unknown for an unknown run id, and dead-lettered / released states", async () => {
    const q = setup.queue({ maxNackAttempts: 0 });
    expect(await q.explain("nope")).toEqual({ runId: "nope", state: "unknown" });
    await q.enqueueMany(["c0", "c1"].map((runId) => ({ runId, orgId: "org", envId: "ec", queue: "jobs" })));
    await q.dequeue({ consumerId: "w", maxCount: 2, envIds: ["ec"] });
    await q.nack("c0");
    await q.release("c1");
    expect((await q.explain("c0")).state).toBe("deadLettered");
    expect((await q.explain("c1")).state).toBe("released");
  });
});
