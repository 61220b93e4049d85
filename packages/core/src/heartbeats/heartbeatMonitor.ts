import type { EngineResources } from "../systems/resources.ts";
import type { FinalizeSystem } from "../systems/finalizeSystem.ts";

export interface HeartbeatMonitorOptions {
  /** overdue entries taken per tick */
  batchSize?: number;
  /** how long a claimed entry is this monitor's before it comes due again (if we die handling it) */
  claimMs?: number;
}

export interface TickResult {
  requeued: number;
  stalled: number;
  cancelsFinished: number;
  /** suspended runs whose waitpoints were checked again (and their next check armed) */
  suspendedRechecked: number;
  stale: number;
}

/**
 * Acts on runs whose heartbeat is overdue, by the status their snapshot is in:
 * PENDING_EXECUTING → requeued (the worker never started it); EXECUTING → the attempt fails as
 * stalled, through the finalizer (retry or final); PENDING_CANCEL → finished as CANCELED, through
 * the finalizer; SUSPENDED → its waitpoints are checked again (a lost resume job cannot strand it).
 * Monitors may run side by side: each overdue entry is claimed by one.
 */
export class HeartbeatMonitor {
  private readonly batchSize: number;
  private readonly claimMs: number;

  constructor(
    private readonly resources: EngineResources,
    private readonly finalize: FinalizeSystem,
    options: HeartbeatMonitorOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 200;
    this.claimMs = options.claimMs ?? 30_000;
  }

  /** One pass over what is overdue now. */
  async tick(now = Date.now()): Promise<TickResult> {
    const { heartbeats, snapshots, jobs, logger, metrics } = this.resources;
    const result: TickResult = { requeued: 0, stalled: 0, cancelsFinished: 0, suspendedRechecked: 0, stale: 0 };
    const overdue = await heartbeats.claimOverdue(now, this.batchSize, this.claimMs);
    for (const entry of overdue) {
      const { runId, snapshotId } = entry;
      const latest = await snapshots.latestSnapshot(runId);
      if (latest?.id !== snapshotId) {
        // the run moved on and the entry outlived its snapshot (a crash between commit and cleanup)
        await heartbeats.forget(entry);
        result.stale++;
        continue;
      }
      const jobId = `${runId}-${snapshotId}`;
      logger.warn({ event: "heartbeat:overdue", runId, snapshotId, executionStatus: latest.executionStatus }, "heartbeat overdue");
      metrics.heartbeatsOverdue.inc({ executionStatus: latest.executionStatus });
      switch (latest.executionStatus) {
        case "PENDING_EXECUTING":
          await this.finalize.requeueUnstarted(runId, snapshotId);
          result.requeued++;
          break;
        case "EXECUTING":
        case "EXECUTING_WITH_WAITPOINTS":
          await jobs.enqueue("attemptStalled", { runId, snapshotId }, { jobId: `stalled-${jobId}` });
          result.stalled++;
          break;
        case "PENDING_CANCEL":
          await jobs.enqueue(
            "finishCancel",
            { runId, snapshotId, reason: "Cancelled; the worker did not confirm in time" },
            { jobId: `cancel-${jobId}` },
          );
          result.cancelsFinished++;
          break;
        case "SUSPENDED":
          // No worker beats for a suspended run: this deadline is a periodic check, armed again each time.
          await jobs.enqueue("continueRunIfUnblocked", { runId }, { jobId: `recheck-${jobId}-${now}` });
          await heartbeats.track(entry, null, now + this.resources.settings.heartbeatTimeouts.suspendedRecheckMs);
          result.suspendedRechecked++;
          break;
        default:
          await heartbeats.forget(entry);
          result.stale++;
      }
    }
    return result;
  }
}
