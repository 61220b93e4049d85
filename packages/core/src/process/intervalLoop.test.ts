import { describe, expect, test } from "vitest";
import { startIntervalLoop } from "./intervalLoop.ts";

describe("startIntervalLoop", () => {
  test("repeats the pass, survives a failing one, and stops at once when aborted mid-sleep", async () => {
    const stop = new AbortController();
    const errors: unknown[] = [];
    let passes = 0;
    const loop = startIntervalLoop({
      intervalMs: 10,
      signal: stop.signal,
      pass: async () => {
        passes++;
        if (passes === 2) throw new Error("Redis is down");
      },
      onError: (error) => errors.push(error),
    });
    await expect.poll(() => passes, { timeout: 5_000 }).toBeGreaterThanOrEqual(4);
    expect(errors).toHaveLength(1);
    const slow = new AbortController();
    let slowPasses = 0;
    const sleeping = startIntervalLoop({ intervalMs: 60_000, signal: slow.signal, pass: async () => void slowPasses++, onError: () => {} });
    await expect.poll(() => slowPasses).toBe(1);
    const stoppedAt = Date.now();
    slow.abort();
    stop.abort();
    await Promise.all([loop, sleeping]);
    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
  });
});
