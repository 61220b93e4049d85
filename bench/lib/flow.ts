import type { RedisCost, RedisMeter } from "./redisMeter.ts";
import { nowMs, Reservoir, sleep, type Summary } from "./timing.ts";

/**
 * Shared state of one producer/consumer throughput scenario.
 *
 * The producer is closed-loop: it stops enqueueing while `maxBacklog` runs are outstanding, so
 * the measured rate is what the consumers sustain end to end (enqueue to ack), not how fast an
 * ever-growing backlog can be written.
 */
export class Flow {
  enqueued = 0;
  acked = 0;
  stopped = false;
  readonly latencyMs = new Reservoir();
  private waiters: Array<() => void> = [];

  constructor(readonly maxBacklog: number) {}

  get backlog(): number {
    return this.enqueued - this.acked;
  }

  onAcked(n: number, enqueuedAtMs?: number): void {
    this.acked += n;
    if (enqueuedAtMs !== undefined) this.latencyMs.add(Date.now() - enqueuedAtMs);
    if (this.waiters.length > 0 && this.backlog < this.maxBacklog) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }

  /** Resolves once there is room for `n` more runs (or the flow was stopped). */
  async room(n: number): Promise<void> {
    while (!this.stopped && this.backlog + n > this.maxBacklog) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        // A timeout, so a producer can never hang on a wake-up that was lost.
        setTimeout(resolve, 50).unref();
      });
    }
  }

  stop(): void {
    this.stopped = true;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }
}

export interface WindowResult {
  runsPerSec: number;
  runs: number;
  seconds: number;
  /** Slowest and fastest window, runs/s. */
  spread: [number, number];
  latency: Summary;
  redis?: RedisCost;
}

/**
 * Lets the flow warm up (connections, script loading, JIT), then counts acks over `windows`
 * consecutive windows and reports the median one, so one burst of someone else's load on the
 * shared machine does not decide the figure. The flow keeps running until the caller stops it.
 */
export async function measureWindow(
  flow: Flow,
  warmupMs: number,
  windowMs: number,
  meter?: RedisMeter,
  windows = 3,
): Promise<WindowResult> {
  await sleep(warmupMs);
  await meter?.begin();
  const first = flow.acked;
  const rates: Array<{ runs: number; seconds: number }> = [];
  for (let i = 0; i < windows; i++) {
    const a0 = flow.acked;
    const t0 = nowMs();
    await sleep(windowMs / windows);
    rates.push({ runs: flow.acked - a0, seconds: (nowMs() - t0) / 1000 });
  }
  const redis = await meter?.end(flow.acked - first);
  rates.sort((a, b) => a.runs / a.seconds - b.runs / b.seconds);
  const median = rates[Math.floor(rates.length / 2)]!;
  const perWindow = rates.map((r) => r.runs / r.seconds);
  return {
    runsPerSec: median.runs / median.seconds,
    runs: median.runs,
    seconds: median.seconds,
    spread: [perWindow[0]!, perWindow[perWindow.length - 1]!],
    latency: flow.latencyMs.summary(),
    redis,
  };
}
