import { Redis } from "ioredis";
import pino from "pino";
import { expect, test, vi } from "vitest";
import { testRedisUrl } from "@runengine/testing";
import { LockAcquisitionTimeoutError } from "../../errors/runEngineError.ts";
import { RunLocker, runLockResource } from "../runLocker.ts";
import { lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, admin, newLocker } = lockerFixture("locking-extension");
const durationMs = 400;
const extensionThresholdMs = 150;

// Rival calls are made from the test body, outside the holder's operation: a call from inside it
// would (correctly) reuse the held lock.

test("a holder running for three lock durations keeps the lock the whole time", async () => {
  const holder = newLocker({ durationMs, extensionThresholdMs });
  const rival = newLocker({ retryDelayMs: 20, retryJitterMs: 0, acquireTimeoutMs: 100 });
  let holderDone = false;
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const holding = holder.lock("run_long", async (signal) => {
    entered();
    await new Promise((resolve) => setTimeout(resolve, 3 * durationMs));
    return signal.aborted;
  });
  void holding.finally(() => (holderDone = true));
  await inside;

  let rivalTries = 0;
  while (!holderDone) {
    const outcome = await rival.lock("run_long", async () => "stolen").catch((error: unknown) => error);
    // the holder may finish during this try; only tries that ended before it count
    if (holderDone) break;
    rivalTries++;
    expect(outcome).toBeInstanceOf(LockAcquisitionTimeoutError);
  }

  expect(rivalTries).toBeGreaterThanOrEqual(5);
  expect(await holding).toBe(false);
  expect(await rival.lock("run_long", async () => "mine now")).toBe("mine now");
});

test("a lock lost mid-operation fires the operation's AbortSignal, and the operation's result still returns", async () => {
  const holder = newLocker({ durationMs, extensionThresholdMs, retryDelayMs: 20, retryJitterMs: 0 });
  const rival = newLocker({ retryDelayMs: 20, retryJitterMs: 0 });
  const started = performance.now();
  let resume!: () => void;

  const holding = holder.lock("run_lost", async (signal) => {
    // what a pause past the lifetime or a Redis failover does: the key is gone
    await admin.del(runLockResource(keyPrefix, "run_lost"));
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    const abortedAfterMs = performance.now() - started;
    const error = (signal as AbortSignal & { error?: Error }).error;
    await new Promise<void>((resolve) => (resume = resolve));
    return { abortedAfterMs, error };
  });

  // exclusivity is really gone: another operation takes the lock while the first still runs
  expect(await rival.lock("run_lost", async () => true)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, durationMs + 200));
  resume();
  // the release fails (the key is not ours any more); the operation's own result still comes back
  const result = await holding;

  expect(result.error).toBeInstanceOf(Error);
  // detected when the lock's own lifetime ran out, not later
  expect(result.abortedAfterMs).toBeGreaterThan(extensionThresholdMs);
  expect(result.abortedAfterMs).toBeLessThan(durationMs + 200);
});

test("an operation that ends while its lock is being extended leaves no extension behind, and no lost-lock report", async () => {
  const redis = new Redis(testRedisUrl);
  const lockScripts = vi.spyOn(redis, "evalsha");
  const logged: string[] = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => logged.push(line) });
  const holder = new RunLocker({ redis, keyPrefix, logger, durationMs, extensionThresholdMs });
  try {
    await holder.lock("run_ending", async () => {
      // the acquisition, then the extension: return while the extension's answer is on its way
      await vi.waitFor(() => expect(lockScripts).toHaveBeenCalledTimes(2), { timeout: durationMs, interval: 5 });
    });
    await new Promise((resolve) => setTimeout(resolve, 2 * durationMs));
    // acquired, extended once, released: nothing extends a released lock
    expect(lockScripts).toHaveBeenCalledTimes(3);
    expect(logged.filter((line) => line.includes("lock:lost"))).toEqual([]);
    expect(await admin.exists(runLockResource(keyPrefix, "run_ending"))).toBe(0);
  } finally {
    await redis.quit();
  }
});
