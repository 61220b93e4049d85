import type { RetryPolicy } from "../schemas/workerProtocol.ts";

/**
 * The delay before the attempt after `failedAttempt` (1-based), or undefined when the policy has no
 * attempts left. Exponential: minTimeout × factor^(failedAttempt − 1), capped at maxTimeout. With
 * `randomize`, the delay is spread uniformly over [50%, 150%] of that (still capped), so many runs
 * that failed together do not retry together.
 */
export function nextRetryDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number = Math.random): number | undefined {
  if (failedAttempt >= policy.maxAttempts) return undefined;
  const exponential = policy.minTimeoutInMs * policy.factor ** (failedAttempt - 1);
  const spread = policy.randomize ? 0.5 + random() : 1;
  return Math.round(Math.min(policy.maxTimeoutInMs, exponential * spread));
}
