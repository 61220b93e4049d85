/** Exponential backoff with jitter, shared by the client's retries and the worker's loops. */
export interface BackoffOptions {
  minDelayMs: number;
  maxDelayMs: number;
  factor: number;
}

export const defaultBackoff: BackoffOptions = { minDelayMs: 200, maxDelayMs: 5_000, factor: 2 };

/**
 * Delay before retry number `retry` (0 for the first retry). Half the delay is fixed and half is
 * random, so many workers that lost the engine at once do not come back in lockstep.
 */
export function backoffDelayMs(retry: number, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** retry);
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Waits `ms`, or less when `signal` aborts first; never rejects, so callers check `signal.aborted`. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export interface WithRetriesOptions extends BackoffOptions {
  /** calls in all, the first included; Infinity retries until `signal` aborts */
  maxAttempts: number;
  shouldRetry: (error: unknown) => boolean;
  /** stops retrying: the last error is thrown */
  signal?: AbortSignal;
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/** Calls `fn` until it resolves, a non-retryable error is thrown, attempts run out or `signal` aborts. */
export async function withRetries<T>(fn: () => Promise<T>, options: WithRetriesOptions): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await fn();
    } catch (error) {
      const attemptsLeft = retry + 1 < options.maxAttempts;
      if (!attemptsLeft || options.signal?.aborted || !options.shouldRetry(error)) throw error;
      const delayMs = backoffDelayMs(retry, options);
      options.onRetry?.(error, retry, delayMs);
      await sleep(delayMs, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
