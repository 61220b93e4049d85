import { afterAll, describe, expect, it } from "vitest";
import type { RunQueue } from "../index.ts";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("scale");
afterAll(() => setup.teardown());

async function timedDequeueMs(q: RunQueue, envId: string): Promise<number> {
  const start = performance.now();
  const [m] = await q.dequeue({ consumerId: "c", maxCount: 1 });
  const elapsed = performance.now() - start;
  expect(m?.envId).toBe(envId);
  await q.ack(m!.runId);
  return elapsed;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * Median single-run dequeue time of each queue over `rounds`, the two measured alternately so a busy
 * machine slows both alike instead of only whichever ran second.
 */
async function interleavedMedians(baseline: RunQueue, crowded: RunQueue, envId: string, rounds: number) {
  const baselineMs: number[] = [];
  const crowdedMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    baselineMs.push(await timedDequeueMs(baseline, envId));
    crowdedMs.push(await timedDequeueMs(crowded, envId));
  }
  return { before: median(baselineMs), after: median(crowdedMs) };
}

describe("scale", () => {
  it("blocked and idle queues and envs stay out of the candidate sets, so dequeue cost does not grow with them", async () => {
    const { redis } = setup;
    const baseline = setup.queue({ keyPrefix: `${setup.prefix}base:` });
    await baseline.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ runId: `r${i}`, orgId: "o", envId: "live", queue: "live" })));

    const q = setup.queue({ keyPrefix: `${setup.prefix}crowded:` });
    const BLOCKED = 10_000;
    // Queues at their limit (0), paused queues, queues of future runs, idle (drained) queues,
    // and envs at their env limit: all with queued runs, none runnable.
    await Promise.all(Array.from({ length: BLOCKED / 2 }, (_, i) => q.setConcurrencyLimit({ envId: "crowd", queue: `limited${i}`, limit: 0 })));
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.pause({ envId: "crowd", queue: `paused${i}` })));
    await Promise.all(Array.from({ length: 500 }, (_, i) => q.setConcurrencyLimit({ envId: `full${i}`, limit: 0 })));
    await q.enqueueMany([
      ...Array.from({ length: BLOCKED / 2 }, (_, i) => ({ runId: `l${i}`, orgId: "o", envId: "crowd", queue: `limited${i}` })),
      ...Array.from({ length: 200 }, (_, i) => ({ runId: `p${i}`, orgId: "o", envId: "crowd", queue: `paused${i}` })),
      ...Array.from({ length: BLOCKED / 2 }, (_, i) => ({ runId: `f${i}`, orgId: "o", envId: "crowd", queue: `future${i}`, availableAt: Date.now() + 3_600_000 })),
      ...Array.from({ length: 500 }, (_, i) => ({ runId: `e${i}`, orgId: "o", envId: `full${i}`, queue: "default" })),
      ...Array.from({ length: 300 }, (_, i) => ({ runId: `r${i}`, orgId: "o", envId: "live", queue: "live" })),
    ]);
    expect(await q.stats({ envId: "crowd" })).toMatchObject({ queued: BLOCKED + 200 });
    // Only runnable things are candidates: one env in the index, none of the crowd's queues.
    expect(await redis.zcard(q.keys.envKeys("crowd").queues)).toBe(0);
    let indexed = 0;
    for (let shard = 0; shard < q.keys.shardCount; shard++) indexed += await redis.zcard(q.keys.shardKeys(shard).envs);
    expect(indexed).toBe(1);
    const { before, after } = await interleavedMedians(baseline, q, "live", 150);
    // Same work per dequeue whatever the crowd; the margin only absorbs timing noise.
    expect(after).toBeLessThan(before * 3 + 1);
  }, 90_000);
});
