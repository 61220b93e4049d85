import { afterAll, describe, expect, it } from "vitest";
import { RunQueue, type DequeuedMessage } from "../index.ts";
import { createRedisForTests, leftoverState, testSetup } from "./redisForTests.ts";

const setup = testSetup("limits");
const consumers = Array.from({ length: 8 }, () => createRedisForTests());
afterAll(async () => {
  for (const redis of consumers) redis.disconnect();
  await setup.teardown();
});

const ENV_LIMIT = 6;
const QUEUE_LIMIT = 3;
const KEY_LIMIT = 2;

describe("limits under 8 concurrent consumers", () => {
  it("never hands out more slots than any limit allows, and leaks none", async () => {
    const admin = setup.queue();
    await admin.setConcurrencyLimit({ envId: "A", limit: ENV_LIMIT });
    await admin.setConcurrencyLimit({ envId: "A", queue: "small", limit: QUEUE_LIMIT });
    await admin.setConcurrencyLimit({ envId: "A", queue: "keyed", limit: KEY_LIMIT });
    await admin.setConcurrencyLimit({ envId: "B", queue: "small", limit: KEY_LIMIT });
    const runs = Array.from({ length: 600 }, (_, i) => {
      const kind = i % 5;
      if (kind === 0) return { runId: `r${i}`, orgId: "o", envId: "A", queue: "small" };
      if (kind === 1) return { runId: `r${i}`, orgId: "o", envId: "A", queue: "keyed", concurrencyKey: `k${i % 4}` };
      if (kind === 2) return { runId: `r${i}`, orgId: "o", envId: "A", queue: "free" };
      if (kind === 3) return { runId: `r${i}`, orgId: "o", envId: "B", queue: "small" };
      return { runId: `r${i}`, orgId: "o", envId: "B", queue: "free", concurrencyKey: `k${i % 3}` };
    });
    await admin.enqueueMany(runs);

    // Held slots as the consumers see them: counted up after a dequeue returns and down before the
    // ack is sent, so they never exceed what Redis holds; over the limit here means over in Redis.
    const held = new Map<string, number>();
    const violations: string[] = [];
    const scopes = (m: DequeuedMessage): string[] => {
      const list = [`env:${m.envId}`, `queue:${m.envId}:${m.queue}`];
      if (m.concurrencyKey) list.push(`key:${m.envId}:${m.queue}:${m.concurrencyKey}`);
      return list;
    };
    const limitOf = (scope: string): number | undefined => {
      if (scope === "env:A") return ENV_LIMIT;
      if (scope === "queue:A:small") return QUEUE_LIMIT;
      if (scope.startsWith("key:A:keyed:")) return KEY_LIMIT;
      if (scope === "queue:B:small") return KEY_LIMIT;
      return undefined;
    };
    let acked = 0;
    let nacked = 0;
    let maxSeen = 0;
    const work = consumers.map(async (redis, c) => {
      const queue = new RunQueue({ redis, keyPrefix: setup.prefix, shards: 3 });
      let idle = 0;
      while (acked < runs.length && idle < 2000) {
        const got = await queue.dequeue({ consumerId: `c${c}`, maxCount: 1 + (c % 4) });
        if (got.length === 0) {
          idle++;
          await new Promise((r) => setImmediate(r));
          continue;
        }
        idle = 0;
        for (const m of got) {
          for (const scope of scopes(m)) {
            const n = (held.get(scope) ?? 0) + 1;
            held.set(scope, n);
            const limit = limitOf(scope);
            if (limit !== undefined && n > limit) violations.push(`${scope}=${n}`);
            if (scope === "env:A") maxSeen = Math.max(maxSeen, n);
          }
        }
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        await Promise.all(
          got.map(async (m, i) => {
            for (const scope of scopes(m)) held.set(scope, (held.get(scope) ?? 0) - 1);
            // Some runs are given back once, to exercise the nack path under contention too.
            if (m.attempt === 0 && (i + c) % 7 === 0) {
              nacked++;
              await queue.nack(m.runId);
            } else {
              await queue.ack(m.runId);
              acked++;
            }
          }),
        );
      }
    });
    // Meanwhile, Redis's own counters are read atomically and compared with the limits.
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        const [envA, small, keyed] = await Promise.all([
          admin.stats({ envId: "A" }),
          admin.stats({ envId: "A", queue: "small" }),
          admin.stats({ envId: "A", queue: "keyed", concurrencyKey: "k1" }),
        ]);
        if (envA.inFlight > ENV_LIMIT) violations.push(`redis env A=${envA.inFlight}`);
        if (small.inFlight > QUEUE_LIMIT) violations.push(`redis queue small=${small.inFlight}`);
        if (keyed.inFlight > KEY_LIMIT) violations.push(`redis key k1=${keyed.inFlight}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await Promise.all(work);
    monitoring = false;
    await monitor;

    expect(violations).toEqual([]);
    expect(acked).toBe(runs.length);
    expect(nacked).toBeGreaterThan(0);
    // The env limit was actually reached, so the check above had something to catch.
    expect(maxSeen).toBe(ENV_LIMIT);
    for (const envId of ["A", "B"]) {
      expect(await admin.stats({ envId })).toMatchObject({ queued: 0, inFlight: 0 });
    }
    expect(await admin.stats({ envId: "A", queue: "keyed", concurrencyKey: "k0" })).toEqual({ queued: 0, inFlight: 0, limit: KEY_LIMIT });
    expect(await leftoverState(setup.redis, setup.prefix)).toEqual({});
  });

  it("takes a changed limit into account at the next dequeue", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}change:` });
    await q.setConcurrencyLimit({ envId: "C", queue: "jobs", limit: 1 });
    await q.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ runId: `c${i}`, orgId: "o", envId: "C", queue: "jobs" })));
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
    await q.setConcurrencyLimit({ envId: "C", queue: "jobs", limit: 3 });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(2);
    await q.setConcurrencyLimit({ envId: "C", queue: "jobs", limit: null });
    await q.setConcurrencyLimit({ envId: "C", limit: 4 });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
    await q.setConcurrencyLimit({ envId: "C", limit: null });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(2);
    expect(await q.stats({ envId: "C" })).toEqual({ queued: 0, inFlight: 6, limit: null });
  });

  it("a lowered limit stops dequeues while the in-flight count is above it", async () => {
    const q = setup.queue({ keyPrefix: `${setup.prefix}lower:` });
    await q.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ runId: `d${i}`, orgId: "o", envId: "D", queue: "jobs", concurrencyKey: "k" })));
    const first = await q.dequeue({ consumerId: "c", maxCount: 3 });
    await q.setConcurrencyLimit({ envId: "D", queue: "jobs", limit: 2 });
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toEqual([]);
    await q.ack(first[0]!.runId);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toEqual([]);
    await q.ack(first[1]!.runId);
    expect(await q.dequeue({ consumerId: "c", maxCount: 10 })).toHaveLength(1);
    const explained = await q.explain("d5");
    expect(explained.state === "queued" && explained.blockedBy).toEqual(["concurrencyKey"]);
  });
});
