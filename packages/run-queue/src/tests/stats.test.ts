import { afterAll, describe, expect, it } from "vitest";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("stats");
afterAll(() => setup.teardown());

describe("stats (stats-2.lua) and inFlight", () => {
  it("reports queued, in flight and limit per env, queue and concurrency key", async () => {
    const clock = new TestClock(60_000_000);
    const q = setup.queue({ clock: clock.read, visibilityTimeoutMs: 1_000 });
    await q.setConcurrencyLimit({ envId: "e", limit: 10 });
    await q.setConcurrencyLimit({ envId: "e", queue: "keyed", limit: 2 });
    await q.enqueueMany([
      ...Array.from({ length: 3 }, (_, i) => ({ runId: `k1-${i}`, orgId: "o", envId: "e", queue: "keyed", concurrencyKey: "k1" })),
      ...Array.from({ length: 2 }, (_, i) => ({ runId: `k2-${i}`, orgId: "o", envId: "e", queue: "keyed", concurrencyKey: "k2" })),
      { runId: "plain", orgId: "o", envId: "e", queue: "plain", availableAt: 60_500_000 },
    ]);
    await q.dequeue({ consumerId: "c", maxCount: 3 });
    expect(await q.stats({ envId: "e" })).toEqual({ queued: 3, inFlight: 3, limit: 10 });
    expect(await q.stats({ envId: "e", queue: "keyed" })).toEqual({ queued: 2, inFlight: 3, limit: 2 });
    const k1 = await q.stats({ envId: "e", queue: "keyed", concurrencyKey: "k1" });
    const k2 = await q.stats({ envId: "e", queue: "keyed", concurrencyKey: "k2" });
    expect(k1.queued + k2.queued).toBe(2);
    expect(k1.inFlight + k2.inFlight).toBe(3);
    expect(await q.stats({ envId: "e", queue: "plain" })).toEqual({ queued: 1, inFlight: 0, limit: null });
    await expect(q.stats({ envId: "e", concurrencyKey: "k1" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });

    const inFlight = await q.inFlight({ envId: "e" });
    expect(inFlight).toHaveLength(3);
    expect(inFlight.every((r) => r.deadline === 60_001_000)).toBe(true);
    expect(await q.inFlight({ envId: "e", offset: 2, count: 5 })).toHaveLength(1);
    expect(await q.inFlight({ envId: "nobody" })).toEqual([]);
  });
});
