import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, expect, test, vi } from "vitest";
import { testRedisUrl } from "@runengine/testing";
import { RunLocker, runLockResource, type RunLockerOptions } from "../runLocker.ts";
import { holdLock, lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, admin, newLocker } = lockerFixture("locking-batched");
const key = (runId: string) => runLockResource(keyPrefix, runId);
const runIds = (label: string) => Array.from({ length: 20 }, (_, i) => `${label}_${i}`);

/** A locker whose connection counts the lock scripts it runs, by how many keys each one locks. */
function countingLocker(options: Omit<RunLockerOptions, "redis" | "keyPrefix"> = {}) {
  const redis = new Redis(testRedisUrl);
  connections.push(redis);
  const evalsha = vi.spyOn(redis, "evalsha");
  const keysPerScript = () => evalsha.mock.calls.map((call) => Number(call[1]));
  return { locker: new RunLocker({ ...options, redis, keyPrefix }), keysPerScript };
}
const connections: Redis[] = [];
afterAll(() => Promise.all(connections.map((connection) => connection.quit())));

test("locks asked for at once are acquired with one redlock call on all their keys", async () => {
  const { locker, keysPerScript } = countingLocker();
  const inside: number[] = [];
  await Promise.all(
    runIds("together").map((runId) =>
      locker.lock(runId, async () => {
        inside.push(await admin.exists(key(runId)));
      }),
    ),
  );
  expect(inside).toEqual(Array(20).fill(1));
  // one acquisition of 20 keys, then each run's own release
  expect(keysPerScript()).toEqual([20, ...Array(20).fill(1)]);
  expect(await admin.exists(...runIds("together").map(key))).toBe(0);
});

test("each lock of a batch is released when its own operation ends, not with the others", async () => {
  const locker = newLocker();
  let slowRunKeyWhileFastDone: number | undefined;
  let fastDone!: () => void;
  const fastReleased = new Promise<void>((resolve) => (fastDone = resolve));
  await Promise.all([
    locker.lock("slow", async () => {
      await fastReleased;
      slowRunKeyWhileFastDone = await admin.exists(key("slow"));
    }),
    locker.lock("fast", async () => undefined).then(async () => {
      expect(await admin.exists(key("fast"))).toBe(0);
      fastDone();
    }),
  ]);
  expect(slowRunKeyWhileFastDone).toBe(1);
});

test("one run of a batch held elsewhere does not hold up the others; it is taken once free", async () => {
  const release = await holdLock(newLocker(), "mixed_7");
  const { locker, keysPerScript } = countingLocker({ retryDelayMs: 50, retryJitterMs: 0 });
  const started = performance.now();
  const enteredAfterMs = new Map<string, number>();
  const all = Promise.all(
    runIds("mixed").map((runId) =>
      locker.lock(runId, async () => {
        enteredAfterMs.set(runId, performance.now() - started);
      }),
    ),
  );
  await sleep(150);
  const freeOnes = runIds("mixed").filter((runId) => runId !== "mixed_7");
  expect([...enteredAfterMs.keys()].sort()).toEqual(freeOnes.sort());
  for (const runId of freeOnes) expect(enteredAfterMs.get(runId)).toBeLessThan(50);
  await release();
  await all;
  expect(enteredAfterMs.get("mixed_7")).toBeGreaterThanOrEqual(150);
  // the batch was refused as a whole (redlock then clears what it may have set), then each key was tried alone
  expect(keysPerScript().slice(0, 22)).toEqual([20, 20, ...Array(20).fill(1)]);
  expect(await admin.exists(...runIds("mixed").map(key))).toBe(0);
});

test("two operations on one run asked for in the same turn still exclude each other", async () => {
  const locker = newLocker({ retryDelayMs: 10, retryJitterMs: 5 });
  const events: string[] = [];
  const operation = (name: string) =>
    locker.lock("twice", async () => {
      events.push(`${name}:start`);
      await sleep(50);
      events.push(`${name}:end`);
    });
  await Promise.all([operation("x"), locker.lock("other", async () => undefined), operation("y")]);
  expect(events[1]).toMatch(/:end$/);
  expect(events[0]!.split(":")[0]).toBe(events[1]!.split(":")[0]);
});
