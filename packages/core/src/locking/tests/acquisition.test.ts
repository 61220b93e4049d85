import { afterAll, beforeAll, expect, test } from "vitest";
import { LockAcquisitionTimeoutError } from "../../errors/runEngineError.ts";
import { runLockResource, type LockWaitReport } from "../runLocker.ts";
import { holdLock, lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, newLocker } = lockerFixture("locking-acquisition");
let release: () => Promise<void>;

beforeAll(async () => {
  release = await holdLock(newLocker(), "run_busy");
});
afterAll(async () => {
  await release();
});

async function timeAcquisition(options: Parameters<typeof newLocker>[0]) {
  const reports: LockWaitReport[] = [];
  const waiter = newLocker({ ...options, onWait: (report) => reports.push(report) });
  const started = performance.now();
  const error = await waiter.lock("run_busy", async () => "acquired").catch((caught: unknown) => caught);
  return { error, ms: performance.now() - started, reports };
}

test("gives up after the retry count", async () => {
  const { error, ms, reports } = await timeAcquisition({ retryCount: 3, retryDelayMs: 50, retryJitterMs: 0, acquireTimeoutMs: 10_000 });
  expect(error).toBeInstanceOf(LockAcquisitionTimeoutError);
  expect(error).toMatchObject({ code: "LOCK_ACQUISITION_TIMEOUT", resource: runLockResource(keyPrefix, "run_busy"), attempts: 4 });
  expect((error as Error).cause).toBeInstanceOf(Error);
  expect(ms).toBeGreaterThanOrEqual(150);
  expect(ms).toBeLessThan(300);
  expect(reports).toMatchObject([{ acquired: false, attempts: 4 }]);
});

test("gives up at the acquisition timeout, whatever the retry count", async () => {
  const { error, ms } = await timeAcquisition({ retryCount: 10_000, retryDelayMs: 20, retryJitterMs: 10, acquireTimeoutMs: 300 });
  expect(error).toBeInstanceOf(LockAcquisitionTimeoutError);
  // No try starts past the timeout; the last one may still be in flight when it passes (one round trip).
  expect((error as LockAcquisitionTimeoutError).waitedMs).toBeLessThanOrEqual(300 + 25);
  expect(ms).toBeGreaterThanOrEqual(250);
  expect(ms).toBeLessThan(360);
});

test("with no retries, one try", async () => {
  const { error, ms } = await timeAcquisition({ retryCount: 0 });
  expect(error).toMatchObject({ attempts: 1 });
  expect(ms).toBeLessThan(100);
});
