import { afterAll, describe, expect, it } from "vitest";
import type { EnqueueMessage, RunQueue } from "../index.ts";
import { TestClock, testSetup } from "./redisForTests.ts";

const setup = testSetup("dequeueStretch");
afterAll(() => setup.teardown());

/**
 * dequeue-6.lua takes runs in stretches (one ZPOPMIN for as many runs as the one-at-a-time order
 * would serve in a row from a lane). The proof that this changes nothing: the same state dequeued
 * in one call of maxCount n and in n calls of maxCount 1 hands out the same runs in the same order.
 */
async function scenario(envId: string, q: RunQueue, clock: TestClock): Promise<void> {
  await q.setConcurrencyLimit({ envId, limit: 40 });
  await q.setConcurrencyLimit({ envId, queue: "limited", limit: 3 });
  await q.setRateLimit({ envId, queue: "rated", limit: 4, periodMs: 60_000 });
  await q.setRateLimit({ envId, queue: "keyRated", limit: 2, periodMs: 60_000, perKey: true });
  const messages: EnqueueMessage[] = [];
  for (let i = 0; i < 60; i++) {
    const queue = ["plain", "limited", "rated", "keyRated", "plain2"][i % 5] as string;
    messages.push({
      runId: `${envId}-${i}`,
      orgId: "o",
      envId,
      queue,
      concurrencyKey: i % 3 === 0 ? "" : `k${i % 4}`,
      priority: i % 7 === 0 ? 30 : 0,
      availableAt: clock.now - (i % 11) * 1000 + (i % 13 === 0 ? 500 : 0),
    });
  }
  await q.enqueueMany(messages);
}

describe("dequeue in stretches", () => {
  it("hands out the same runs in the same order as one run per call", async () => {
    const clock = new TestClock(70_000_000);
    const batched = setup.queue({ clock: clock.read });
    const single = setup.queue({ clock: clock.read });
    await scenario("stretchA", batched, clock);
    await scenario("stretchB", single, clock);
    const strip = (runId: string) => runId.replace(/^stretch[AB]-/, "");
    const a: string[] = [];
    const b: string[] = [];
    for (let round = 0; round < 3; round++) {
      a.push(...(await batched.dequeue({ consumerId: "c", maxCount: 25, envIds: ["stretchA"] })).map((m) => strip(m.runId)));
      for (let i = 0; i < 25; i++) {
        const [m] = await single.dequeue({ consumerId: "c", maxCount: 1, envIds: ["stretchB"] });
        if (m) b.push(strip(m.runId));
      }
      expect(a).toEqual(b);
      clock.advance(1_000);
    }
    expect(a.length).toBeGreaterThan(25);
    expect(await batched.stats({ envId: "stretchA" })).toEqual(await single.stats({ envId: "stretchB" }));
  });
});
