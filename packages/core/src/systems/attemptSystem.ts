import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import type { JobPayload } from "../jobs/catalog.ts";
import type { AttemptResult } from "../schemas/workerProtocol.ts";
import { CallBatcher } from "../utils/callBatcher.ts";
import type { EngineResources } from "./resources.ts";
import { readWhileLocking, runWithLatestSnapshot } from "../snapshots/runRows.ts";
import { isOnWorker } from "../state-machine/statuses.ts";
import { continuesSameAttempt } from "../waitpoints/attemptContinuity.ts";

export interface WorkerReport {
  workerId: string;
  snapshotId: string;
}

type AttemptReport = JobPayload<"attemptResults">["results"][number];

export type HeartbeatAction = { action: "continue" | "cancel" | "stale"; snapshotId: string };

/**
 * What a worker says about a run it holds: the attempt started, it is alive, it ended. The
 * snapshot id in every report is a fencing token: a worker that lost the run (it froze past its
 * heartbeat deadline and the run was retried elsewhere) is refused.
 */
export class AttemptSystem {
  /** accepted reports, handed to the finalizer as one job per batch (see CallBatcher) */
  private readonly results: CallBatcher<AttemptReport, void>;

  constructor(private readonly resources: EngineResources) {
    this.results = new CallBatcher(
      async (reports) => {
        await resources.jobs.enqueue("attemptResults", { results: reports.map((report) => report.input) });
        for (const report of reports) report.resolve();
      },
      { maxInFlight: 2, maxBatch: 100 },
    );
  }

  /**
   * PENDING_EXECUTING → EXECUTING, attempt number + 1. StaleSnapshotError when the run moved on.
   * The first start locks the run to the worker's deployment: later attempts and resumes run only
   * on that version. A hand-off that never started locks nothing.
   */
  async start(environmentId: string, runId: string, report: WorkerReport, deploymentId: string): Promise<{ snapshotId: string; attemptNumber: number }> {
    const { prisma, snapshots, locker } = this.resources;
    // Read while the lock is being taken: the write is fenced on the reported snapshot, so a read
    // that a change overtook only fails it, as the report is then stale.
    const early = readWhileLocking(prisma, runId);
    return locker.lock(runId, async () => {
      const found = await early;
      if (found?.run.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
      const { run, latest } = found;
      const attemptNumber = run.attemptNumber + 1;
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: report.snapshotId,
          executionStatus: "EXECUTING",
          runStatus: "EXECUTING",
          description: `Attempt ${attemptNumber} started on worker ${report.workerId}`,
          attemptNumber,
          workerId: report.workerId,
          runUpdate: { attemptNumber, startedAt: run.startedAt ?? new Date(), lockedToDeploymentId: run.lockedToDeploymentId ?? deploymentId },
        },
        {
          latest,
          // The queue entry keeps the visibility deadline its dequeue set (5 minutes, beyond the
          // default PENDING_EXECUTING timeout); the attempt's heartbeats push it from here on.
          afterCommit: async (next) => {
            // answered with the lock's release: the worker cannot beat before it has the reply
            locker.withRelease(runId, trackHeartbeat(this.resources, next));
            // a started run never expires: its TTL job would only fire to do nothing
            if (run.startedAt === null && run.expiresAt !== null) await this.resources.jobs.unschedule("expireRun", { runId });
          },
        },
      );
      if (run.startedAt === null) this.resources.metrics.triggerToStart.observe((Date.now() - run.createdAt.getTime()) / 1_000);
      return { snapshotId: state.snapshot.id, attemptNumber };
    });
  }

  /**
   * Pushes the heartbeat deadline of the reported snapshot (and the queue's visibility deadline).
   * No lock and no database write on the happy path: a heartbeat is one Redis command when the
   * worker is current. Otherwise the answer tells the worker to abort (cancel) or drop the run.
   */
  async heartbeat(environmentId: string, runId: string, report: WorkerReport): Promise<HeartbeatAction> {
    const { heartbeats, runQueue, snapshots, settings } = this.resources;
    if (await heartbeats.beat({ environmentId, runId, snapshotId: report.snapshotId }, Date.now() + settings.heartbeatTimeouts.executingMs)) {
      await runQueue.extend(runId);
      return { action: "continue", snapshotId: report.snapshotId };
    }
    const latest = await snapshots.latestSnapshot(runId);
    // Another environment's run is "not found": the answer must not reveal it, nor its snapshot id.
    if (!latest || latest.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
    if (latest.executionStatus === "PENDING_CANCEL" && latest.workerId === report.workerId) {
      return { action: "cancel", snapshotId: latest.id };
    }
    if (latest.id === report.snapshotId && latest.workerId === report.workerId && isOnWorker(latest.executionStatus)) {
      // The worker is current but its deadline is gone: Redis lost its data. Tracking it again
      // keeps a live attempt running; the reconciler restores the queue slot.
      await heartbeats.track({ environmentId, runId, snapshotId: latest.id }, null, Date.now() + settings.heartbeatTimeouts.executingMs);
      return { action: "continue", snapshotId: latest.id };
    }
    if (await continuesSameAttempt(this.resources.prisma, latest, report)) {
      await heartbeats.beat({ environmentId, runId, snapshotId: latest.id }, Date.now() + settings.heartbeatTimeouts.executingMs);
      await runQueue.extend(runId);
      return { action: "continue", snapshotId: latest.id };
    }
    return { action: "stale", snapshotId: latest.id };
  }

  /**
   * Accepts an attempt's result and hands it to the finalizer in a job, with the other results
   * accepted meanwhile; it answers once the job is stored. Refused with StaleSnapshotError unless
   * the reported snapshot is the newest, or the run was cancelled while this worker ran it (the
   * report ends the cancel). A duplicate report does nothing when applied: its snapshot is no
   * longer the newest.
   */
  async report(environmentId: string, runId: string, report: WorkerReport & { result: AttemptResult }): Promise<void> {
    const found = await runWithLatestSnapshot(this.resources.prisma, runId);
    if (found?.run.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
    const { latest } = found;
    const current = latest.id === report.snapshotId;
    const endsCancel = latest.executionStatus === "PENDING_CANCEL" && latest.workerId === report.workerId;
    if (!current && !endsCancel) {
      throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
    }
    const { id, environmentId: snapshotEnvironmentId, executionStatus, runStatus, attemptNumber, workerId, checkpointId } = latest;
    const seen = { id, runId, environmentId: snapshotEnvironmentId, executionStatus, runStatus, attemptNumber, workerId, checkpointId };
    await this.results.call({ runId, ...report, seen });
  }
}
