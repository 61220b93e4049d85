import { afterAll, describe, expect, it } from "vitest";
import type { RunQueue } from "../index.ts";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("fairness");
afterAll(() => setup.teardown());

/** Dequeues `total` runs in batches of `batch` and returns them in order. */
async function drain(q: RunQueue, total: number, batch: number) {
  const out = [];
  while (out.length < total) {
    const got = await q.dequeue({ consumerId: "c", maxCount: Math.min(batch, total - out.length) });
    if (got.length === 0) break;
    out.push(...got);
  }
  return out;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe("fairness", () => {
  it("one env with 100,000 runs does not delay 9 envs with 10 runs each: all 90 go in the first 200", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}flood:` });
    const big = Array.from({ length: 100_000 }, (_, i) => ({ runId: `big${i}`, orgId: "o", envId: "big", queue: "default" }));
    for (let start = 0; start < big.length; start += 20_000) await q.enqueueMany(big.slice(start, start + 20_000));
    const small = Array.from({ length: 90 }, (_, i) => ({ runId: `s${i}`, orgId: "o", envId: `small${i % 9}`, queue: "default" }));
    await q.enqueueMany(small);
    expect((await q.stats({ envId: "big" })).queued).toBe(100_000);

    const first = await drain(q, 200, 10);
    expect(first).toHaveLength(200);
    const smallServed = first.filter((m) => m.envId !== "big");
    expect(smallServed).toHaveLength(90);
    // And they were interleaved from the start, not after a burst of the big env.
    const firstTen = countBy(first.slice(0, 10), (m) => m.envId);
    expect(firstTen.size).toBe(10);
  }, 90_000);

  it("9 busy envs with different backlogs share a window of dequeues equally (within 10%)", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}busy:` });
    const runs = [];
    for (let e = 0; e < 9; e++) {
      for (let i = 0; i < 200 + e * 100; i++) runs.push({ runId: `b${e}-${i}`, orgId: "o", envId: `busy${e}`, queue: "default" });
    }
    await q.enqueueMany(runs);
    const window = await drain(q, 900, 7);
    const shares = countBy(window, (m) => m.envId);
    expect(shares.size).toBe(9);
    for (const share of shares.values()) {
      expect(share).toBeGreaterThanOrEqual(90);
      expect(share).toBeLessThanOrEqual(110);
    }
  });

  it("queues inside one env share equally", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}queues:` });
    const runs = [];
    for (const [queue, backlog] of [["q1", 50], ["q2", 100], ["q3", 200], ["q4", 400], ["q5", 800]] as const) {
      for (let i = 0; i < backlog; i++) runs.push({ runId: `${queue}-${i}`, orgId: "o", envId: "one", queue });
    }
    await q.enqueueMany(runs);
    const shares = countBy(await drain(q, 250, 10), (m) => m.queue);
    for (const queue of ["q1", "q2", "q3", "q4", "q5"]) {
      expect(shares.get(queue)).toBeGreaterThanOrEqual(45);
      expect(shares.get(queue)).toBeLessThanOrEqual(55);
    }
  });

  it("concurrency keys inside one queue share equally", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}keys:` });
    const runs = [];
    for (const [key, backlog] of [["k1", 40], ["k2", 80], ["k3", 160], ["k4", 320]] as const) {
      for (let i = 0; i < backlog; i++) runs.push({ runId: `${key}-${i}`, orgId: "o", envId: "one", queue: "jobs", concurrencyKey: key });
    }
    await q.enqueueMany(runs);
    const shares = countBy(await drain(q, 160, 5), (m) => m.concurrencyKey ?? "");
    for (const key of ["k1", "k2", "k3", "k4"]) {
      expect(shares.get(key)).toBeGreaterThanOrEqual(36);
      expect(shares.get(key)).toBeLessThanOrEqual(44);
    }
  });

  it("an env that joins late is served at once, but cannot claim credit for the time it was idle", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}late:` });
    await q.enqueueMany(Array.from({ length: 300 }, (_, i) => ({ runId: `early${i}`, orgId: "o", envId: "early", queue: "default" })));
    await drain(q, 200, 10);
    await q.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ runId: `late${i}`, orgId: "o", envId: "late", queue: "default" })));
    const next = await drain(q, 40, 10);
    const shares = countBy(next, (m) => m.envId);
    // Equal shares from the moment it joins: it does not get 200 dequeues in a row to catch up.
    expect(shares.get("late")).toBeGreaterThanOrEqual(18);
    expect(shares.get("late")).toBeLessThanOrEqual(22);
  });

  it("a queue that was blocked at its limit keeps its place instead of jumping ahead", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}blocked:` });
    await q.setConcurrencyLimit({ envId: "env", queue: "limited", limit: 5 });
    const runs = [];
    for (let i = 0; i < 100; i++) runs.push({ runId: `l${i}`, orgId: "o", envId: "env", queue: "limited" });
    for (let i = 0; i < 100; i++) runs.push({ runId: `f${i}`, orgId: "o", envId: "env", queue: "free" });
    await q.enqueueMany(runs);
    const first = await drain(q, 20, 20);
    expect(countBy(first, (m) => m.queue)).toEqual(new Map([["limited", 5], ["free", 15]]));
    for (const m of first.filter((m) => m.queue === "limited")) await q.ack(m.runId);
    // "limited" was served 5 and "free" 15: equal service means "limited" gets the next 10 it can.
    const next = await drain(q, 10, 10);
    expect(countBy(next, (m) => m.queue).get("limited")).toBe(5);
  });
});
