import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { LockAcquisitionTimeoutError } from "../../errors/runEngineError.ts";
import { runLockResource, type LockWaitReport } from "../runLocker.ts";
import { holdLock, lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, admin, newLocker } = lockerFixture("locking-reentrancy");
const key = (runId: string) => runLockResource(keyPrefix, runId);

describe("reentrancy", () => {
  test("a nested lock of the same run reuses the held lock instead of waiting for it", async () => {
    // a short acquisition bound: a deadlocked nested call would fail fast instead of hanging
    const locker = newLocker({ acquireTimeoutMs: 300, retryDelayMs: 20 });
    const result = await locker.lock("run_a", async (outer) => {
      const started = performance.now();
      const inner = await locker.lock("run_a", async (signal) => {
        expect(signal).toBe(outer);
        // twice more, concurrently: both belong to the same operation
        return Promise.all([locker.lock("run_a", async () => 1), locker.lock("run_a", async () => 2)]);
      });
      return { inner, ms: performance.now() - started };
    });
    expect(result.inner).toEqual([1, 2]);
    expect(result.ms).toBeLessThan(100);
    expect(await admin.exists(key("run_a"))).toBe(0);
  });

  test("a nested lock of another run takes that run's lock too, and both are released", async () => {
    const locker = newLocker();
    await locker.lock("run_b", async () => {
      await locker.lock("run_c", async () => {
        expect(await admin.exists(key("run_b"), key("run_c"))).toBe(2);
      });
      expect(await admin.exists(key("run_c"))).toBe(0);
      expect(await admin.exists(key("run_b"))).toBe(1);
    });
    expect(await admin.exists(key("run_b"))).toBe(0);
  });

  test("work started under the lock but running after its release takes the lock again", async () => {
    const locker = newLocker();
    let afterRelease: Promise<number> | undefined;
    await locker.lock("run_d", async () => {
      afterRelease = sleep(50).then(() => locker.lock("run_d", async () => admin.exists(key("run_d"))));
    });
    // the key exists inside the late call only if it really acquired the lock
    expect(await afterRelease).toBe(1);
  });

  test("separate operations on one run in one process still exclude each other", async () => {
    const locker = newLocker({ retryDelayMs: 10, retryJitterMs: 5 });
    const events: string[] = [];
    const operation = (name: string) =>
      locker.lock("run_e", async () => {
        events.push(`${name}:start`);
        await sleep(80);
        events.push(`${name}:end`);
      });
    await Promise.all([operation("x"), operation("y")]);
    const [first, second] = events[0] === "x:start" ? ["x", "y"] : ["y", "x"];
    expect(events).toEqual([`${first}:start`, `${first}:end`, `${second}:start`, `${second}:end`]);
  });
});

describe("release", () => {
  test("a throwing operation releases the lock and its error reaches the caller unchanged", async () => {
    const locker = newLocker();
    const failure = new Error("task exploded");
    await expect(locker.lock("run_f", async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await admin.exists(key("run_f"))).toBe(0);

    const reports: LockWaitReport[] = [];
    const next = newLocker({ onWait: (report) => reports.push(report) });
    await next.lock("run_f", async () => undefined);
    expect(reports).toMatchObject([{ runId: "run_f", resource: key("run_f"), attempts: 1, acquired: true }]);
  });

  test("the wait callback reports how long a waiter waited", async () => {
    const holder = newLocker();
    const reports: LockWaitReport[] = [];
    const waiter = newLocker({ retryDelayMs: 20, retryJitterMs: 0, onWait: (report) => reports.push(report) });
    const release = await holdLock(holder, "run_g");
    const waiting = waiter.lock("run_g", async () => "got it");
    await sleep(200);
    await release();
    expect(await waiting).toBe("got it");
    expect(reports).toHaveLength(1);
    expect(reports[0]?.acquired).toBe(true);
    expect(reports[0]?.waitMs).toBeGreaterThanOrEqual(180);
    expect(reports[0]?.attempts).toBeGreaterThan(5);
  });

  test("a failed acquisition never runs the operation", async () => {
    const holder = newLocker();
    const waiter = newLocker({ retryCount: 0 });
    const release = await holdLock(holder, "run_h");
    let ran = false;
    // called from outside the holder's operation: inside it, the call would reuse the lock
    await expect(waiter.lock("run_h", async () => (ran = true))).rejects.toBeInstanceOf(LockAcquisitionTimeoutError);
    await release();
    expect(ran).toBe(false);
  });
});
