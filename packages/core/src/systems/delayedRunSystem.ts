import type { TaskRun } from "@runengine/database";
import { ConflictError, NotFoundError } from "../errors/runEngineError.ts";
import type { JobPayload } from "../jobs/catalog.ts";
import type { DeferJob } from "../jobs/queues.ts";
import { logEvent, runLogger } from "../logging/logger.ts";
import { parseDurationMs } from "../schemas/duration.ts";
import type { InitialSnapshot } from "../snapshots/types.ts";
import type { EngineResources } from "./resources.ts";
import { enqueueRun } from "./runQueueEntry.ts";

/** The first snapshot of a run triggered with a delay (or a debounce window). */
export function delayedSnapshot(delayUntil: Date, reason = "Delayed"): InitialSnapshot {
  return { executionStatus: "DELAYED", runStatus: "DELAYED", description: `${reason} until ${delayUntil.toISOString()}` };
}

/** True for a run the scheduler will queue at its due time (a retry's backoff is not one). */
function isDelayedRun(status: { executionStatus: string; runStatus: string } | null): boolean {
  return status?.executionStatus === "DELAYED" && status.runStatus === "DELAYED";
}

/**
 * Delayed runs. A run triggered with `delay` is created DELAYED with `delayUntil`, and one BullMQ
 * job per run (job id = run id) fires at that instant on the scheduler: under the run's lock the
 * run becomes QUEUED and enters the fair queue, its TTL counting from then. The job lives in Redis,
 * so a scheduler restarted during the delay still fires it on time. A reschedule (or a debounce
 * push) writes the new due time and moves the job; a job that was already being processed reads
 * the due time from Postgres and moves itself.
 */
export class DelayedRunSystem {
  constructor(private readonly resources: EngineResources) {}

  /** Places (or moves) the due-time job of a DELAYED run. */
  async schedule(runId: string, delayUntil: Date): Promise<void> {
    await this.resources.jobs.schedule("enqueueDelayedRun", { runId }, delayUntil);
  }

  /** Drops the due-time job of a run that will not be queued (cancelled). */
  async unschedule(runId: string): Promise<void> {
    await this.resources.jobs.unschedule("enqueueDelayedRun", { runId });
  }

  /** The scheduler's handler for job `enqueueDelayedRun`: queues the run if it is due. */
  async enqueueDue({ runId }: JobPayload<"enqueueDelayedRun">, defer?: DeferJob): Promise<void> {
    const { locker, snapshots, prisma, logger } = this.resources;
    await locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      const run = await prisma.taskRun.findUnique({ where: { id: runId } });
      if (!latest || !run || !isDelayedRun(latest)) {
        logEvent(runLogger(logger, { runId }), "debug", "job:skipped", { job: "enqueueDelayedRun", executionStatus: latest?.executionStatus ?? null });
        return;
      }
      if (run.delayUntil !== null && run.delayUntil.getTime() > Date.now()) {
        if (defer) await defer(run.delayUntil);
        return;
      }
      const now = new Date();
      const ttlMs = run.ttl === null ? undefined : parseDurationMs(run.ttl);
      await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "QUEUED",
          runStatus: "PENDING",
          description: `Due (delayed until ${(run.delayUntil ?? now).toISOString()}); queued`,
          runUpdate: { queuedAt: now, expiresAt: ttlMs === undefined ? null : new Date(now.getTime() + ttlMs) },
        },
        { afterCommit: (state) => enqueueRun(this.resources, state.run) },
      );
    });
  }

  /**
   * Moves the due time of a DELAYED run, earlier or later (a due time in the past queues it at
   * once). ConflictError when the run is not DELAYED (already queued, running or final).
   */
  async reschedule(runId: string, delayUntil: Date): Promise<TaskRun> {
    const { locker, snapshots } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (!isDelayedRun(latest)) throw new ConflictError("status", `Run ${runId} is ${latest.runStatus}; only a DELAYED run can be rescheduled`);
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "DELAYED",
          runStatus: "DELAYED",
          description: `Rescheduled to ${delayUntil.toISOString()}`,
          runUpdate: { delayUntil },
        },
        { afterCommit: () => this.schedule(runId, delayUntil) },
      );
      return state.run;
    });
  }
}
