import { nowMs, sleep } from "./timing.ts";

export interface BurstResult {
  /** runs that reached a final state within the time limit */
  completed: number;
  total: number;
  /** first submit to the poll that saw the last completion (or to the time limit) */
  seconds: number;
  /** first submit to the last submit call returning: how fast the producers could hand work over */
  submitSeconds: number;
  runsPerSec: number;
  timedOut: boolean;
}

/**
 * Open-loop burst, the same shape for the engine and both baselines: `producers` loops submit
 * `total` runs in batches of `batch` as fast as the system accepts them (a backend enqueueing a
 * backlog), while the workers already process; the clock stops when `completed()` reaches
 * `total`. runs/s = total / seconds, so it covers trigger to final state for every run.
 * `completed()` is polled every `pollMs`, which bounds the clock's error to one interval.
 */
export async function burst(opts: {
  total: number;
  batch: number;
  producers: number;
  submit: (count: number) => Promise<unknown>;
  completed: () => number | Promise<number>;
  pollMs: number;
  timeoutMs: number;
}): Promise<BurstResult> {
  const t0 = nowMs();
  let next = 0;
  let submitEnd = t0;
  let submitError: unknown;
  const produce = async () => {
    while (next < opts.total) {
      const n = Math.min(opts.batch, opts.total - next);
      next += n;
      await opts.submit(n);
    }
    submitEnd = Math.max(submitEnd, nowMs());
  };
  const producing = Promise.all(Array.from({ length: opts.producers }, produce)).catch((err) => {
    submitError = err;
  });
  let completed = 0;
  let timedOut = false;
  for (;;) {
    completed = await opts.completed();
    if (submitError) throw submitError;
    if (completed >= opts.total) break;
    if (nowMs() - t0 > opts.timeoutMs) {
      timedOut = true;
      break;
    }
    await sleep(opts.pollMs);
  }
  const seconds = (nowMs() - t0) / 1000;
  await producing;
  return {
    completed,
    total: opts.total,
    seconds,
    submitSeconds: (submitEnd - t0) / 1000,
    runsPerSec: completed / seconds,
    timedOut,
  };
}
