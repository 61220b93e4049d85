import { Counter, Histogram, Registry } from "prom-client";
import type { LockWaitReport } from "../locking/runLocker.ts";

/**
 * The metrics every role of the engine produces, on a registry of this engine's own (tests run
 * several engines in one process). Each role serves it at /metrics; the api adds its own and the
 * operators' gauges (runs by status, queue depth) that are read at scrape time.
 */
export class EngineMetrics {
  readonly registry = new Registry();

  /** time from lock() to holding the run's lock (or giving up), per outcome */
  readonly lockWait = new Histogram({
    name: "runengine_lock_wait_seconds",
    help: "Time spent waiting for a run's lock (RunLocker), by outcome: acquired or timeout",
    labelNames: ["outcome"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  /** from the run's trigger to its first attempt starting on a worker */
  readonly triggerToStart = new Histogram({
    name: "runengine_trigger_to_start_seconds",
    help: "Time from a run's trigger to the start of its first attempt",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [this.registry],
  });

  /** incremented by the heartbeat monitor for each overdue heartbeat it acts on */
  readonly heartbeatsOverdue = new Counter({
    name: "runengine_heartbeats_overdue_total",
    help: "Overdue heartbeats acted on by the heartbeat monitor, by the execution status the run was in",
    labelNames: ["executionStatus"] as const,
    registers: [this.registry],
  });

  /** incremented by the reconciler for each divergence it repairs (a leaked slot, a lost queue entry...) */
  readonly reconcilerRepairs = new Counter({
    name: "runengine_reconciler_repairs_total",
    help: "Divergences between Postgres and Redis the reconciler repaired, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  /** incremented by the scheduler for each cron tick job it handles, by what the job did */
  readonly scheduleTicks = new Counter({
    name: "runengine_schedule_ticks_total",
    help: "Cron schedule tick jobs handled by the scheduler, by outcome: fired, refused, stale, inactive",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });

  /** from a cron tick's instant to its run being triggered: how far behind the schedulers are */
  readonly scheduleTickLag = new Histogram({
    name: "runengine_schedule_tick_lag_seconds",
    help: "Time from a cron schedule's tick to its run being triggered",
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  /** RunLocker's onWait hook */
  readonly observeLockWait = (report: LockWaitReport): void => {
    this.lockWait.observe({ outcome: report.acquired ? "acquired" : "timeout" }, report.waitMs / 1_000);
  };

  /** Counts repairs of the reconciler; `kind` names what diverged (e.g. "leaked-slot"). */
  countRepair(kind: string, count = 1): void {
    this.reconcilerRepairs.inc({ kind }, count);
  }
}
