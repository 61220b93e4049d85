import type { RunTimeline } from "./engine.ts";
import { percentile } from "./timing.ts";

export interface StepStat {
  step: string;
  runs: number;
  p50: number;
  p95: number;
  mean: number;
}

/**
 * Where a run's time goes, from its own record: the gap between consecutive valid execution
 * snapshots (labelled `FROM→TO`), and from TaskRun.createdAt to the first snapshot. Steps are
 * listed in the order they first occur; the snapshot description of the later snapshot is kept,
 * because the same pair of states can be reached by different operations.
 */
export function stepBreakdown(timelines: readonly RunTimeline[]): StepStat[] {
  const order: string[] = [];
  const values = new Map<string, number[]>();
  const add = (step: string, ms: number) => {
    if (!values.has(step)) {
      values.set(step, []);
      order.push(step);
    }
    values.get(step)!.push(ms);
  };
  for (const t of timelines) {
    const first = t.snapshots[0];
    if (first) add(`TaskRun.createdAt→${first.status}`, first.at - t.createdAt);
    for (let i = 1; i < t.snapshots.length; i++) {
      const a = t.snapshots[i - 1]!;
      const b = t.snapshots[i]!;
      // Worker and snapshot ids differ per run; without them the same step aggregates as one.
      add(`${a.status}→${b.status} (${b.description.replace(/\bc[a-z0-9]{20,}\b/g, "…")})`, b.at - a.at);
    }
  }
  return order.map((step) => {
    const v = values.get(step)!.sort((a, b) => a - b);
    return { step, runs: v.length, p50: percentile(v, 50), p95: percentile(v, 95), mean: v.reduce((s, x) => s + x, 0) / v.length };
  });
}
