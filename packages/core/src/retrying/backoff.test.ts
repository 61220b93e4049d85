import { describe, expect, test } from "vitest";
import { nextRetryDelayMs } from "./backoff.ts";

const policy = { maxAttempts: 5, factor: 2, minTimeoutInMs: 100, maxTimeoutInMs: 1_000, randomize: false };

describe("nextRetryDelayMs", () => {
  test("grows by the factor from minTimeout and stops at maxTimeout", () => {
    expect([1, 2, 3, 4].map((attempt) => nextRetryDelayMs(policy, attempt))).toEqual([100, 200, 400, 800]);
    expect(nextRetryDelayMs({ ...policy, maxAttempts: 10 }, 6)).toBe(1_000);
  });

  test("no delay once the failed attempt was the last allowed", () => {
    expect(nextRetryDelayMs(policy, 5)).toBeUndefined();
    expect(nextRetryDelayMs({ ...policy, maxAttempts: 1 }, 1)).toBeUndefined();
  });

  test("randomize spreads over 50%..150% of the delay, still capped", () => {
    const randomized = { ...policy, randomize: true };
    expect(nextRetryDelayMs(randomized, 2, () => 0)).toBe(100);
    expect(nextRetryDelayMs(randomized, 2, () => 0.999)).toBe(300);
    expect(nextRetryDelayMs(randomized, 4, () => 0.999)).toBe(1_000);
    const samples = Array.from({ length: 1_000 }, () => nextRetryDelayMs(randomized, 2)!);
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...samples)).toBeLessThanOrEqual(300);
    expect(new Set(samples).size).toBeGreaterThan(50);
  });
});
