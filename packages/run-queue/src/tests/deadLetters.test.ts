import { afterAll, describe, expect, it } from "vitest";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("dead-letters");
afterAll(() => setup.teardown());

describe("deadLetters (deadLetters-1.lua) and redrive (redrive-7.lua)", () => {
  it("lists dead-lettered runs oldest first and redrives one with fresh attempts", async () => {
    const clock = new TestClock(7_000_000);
    const q = setup.queue({ clock: clock.read, maxNackAttempts: 0 });
    await q.enqueueMany(["a1", "a2"].map((runId) => ({ runId, orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "k:1", priority: 2 })));
    await q.dequeue({ consumerId: "c", maxCount: 2 });
    await q.nack("a2");
    clock.advance(1);
    await q.nack("a1");
    expect(await q.deadLetters({ envId: "ea" })).toEqual([
      { runId: "a2", deadLetteredAt: 7_000_000, orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "k:1", priority: 2, availableAt: 7_000_000, attempt: 1 },
      { runId: "a1", deadLetteredAt: 7_000_001, orgId: "org", envId: "ea", queue: "jobs", concurrencyKey: "k:1", priority: 2, availableAt: 7_000_000, attempt: 1 },
    ]);
    expect(await q.deadLetters({ envId: "ea", offset: 1, count: 5 })).toHaveLength(1);
    await q.redrive("a2");
    expect((await q.deadLetters({ envId: "ea" })).map((d) => d.runId)).toEqual(["a1"]);
    const [again] = await q.dequeue({ consumerId: "c", maxCount: 2 });
    expect(again).toMatchObject({ runId: "a2", attempt: 0, availableAt: 7_000_001 });
  });

  it("returns an empty page for an env without dead letters; refuses to redrive other runs", async () => {
    const q = setup.queue();
    expect(await q.deadLetters({ envId: "nobody" })).toEqual([]);
    await expect(q.redrive("unknown")).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
    await q.enqueue({ runId: "b1", orgId: "org", envId: "eb", queue: "jobs" });
    await expect(q.redrive("b1")).rejects.toMatchObject({ code: "RUN_NOT_DEAD_LETTERED" });
  });
});
