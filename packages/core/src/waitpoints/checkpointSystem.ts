import type { ExecutionSnapshot, Prisma } from "@runengine/database";
import { RunQueueError } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError, StaleSnapshotError, ValidationError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { journalSchema, type CompletedWaitpoint, type Journal, type ResumeFromCheckpoint, type WaitStatusResponse } from "../schemas/waitpoint.ts";
import type { EngineResources } from "../systems/resources.ts";
import type { BlockingSystem } from "./blockingSystem.ts";

export interface CheckpointReport {
  workerId: string;
  snapshotId: string;
  journal: Journal;
  reason?: string;
}

/**
 * Checkpoints: a waiting run leaves its worker. The worker sends the journal of what the task did
 * so far (completed steps and waits, and the wait it blocks on); the run becomes SUSPENDED and gives
 * its concurrency slot back. Once its waitpoints complete it is queued again, and whichever worker
 * of its version dequeues it gets the journal back, replays the task with it, and continues.
 */
export class CheckpointSystem {
  constructor(
    private readonly resources: EngineResources,
    private readonly blocking: BlockingSystem,
  ) {}

  /**
   * EXECUTING_WITH_WAITPOINTS → SUSPENDED with a new checkpoint, slot released. StaleSnapshotError
   * when `snapshotId` is no longer the run's newest (its waits completed first, a cancel, another
   * attempt): the worker then keeps or drops the run as the newest snapshot says.
   */
  async suspend(runId: string, report: CheckpointReport): Promise<{ checkpointId: string; snapshotId: string }> {
    const { prisma, snapshots, locker } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (latest.id !== report.snapshotId || latest.workerId !== report.workerId) {
        throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
      }
      if (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS") {
        throw new ValidationError("snapshotId", `run ${runId} is ${latest.executionStatus}; only a run blocked by waitpoints can be checkpointed`);
      }
      const run = await prisma.taskRun.findUniqueOrThrow({ where: { id: runId }, select: { lockedToDeploymentId: true, attemptNumber: true } });
      if (!run.lockedToDeploymentId) throw new ValidationError("runId", `run ${runId} is not locked to a deployment`);
      const checkpoint = await prisma.checkpoint.create({
        data: {
          runId,
          environmentId: latest.environmentId,
          attemptNumber: latest.attemptNumber ?? run.attemptNumber,
          deploymentId: run.lockedToDeploymentId,
          journal: report.journal as Prisma.InputJsonValue,
          reason: report.reason ?? null,
        },
      });
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "SUSPENDED",
          runStatus: "WAITING_TO_RESUME",
          description: `Checkpointed by worker ${report.workerId} (${report.journal.length} journal entries); off the worker, its slot released until its waitpoints complete`,
          checkpointId: checkpoint.id,
          workerId: null,
        },
        {
          afterCommit: async (next) => {
            await trackHeartbeat(this.resources, next);
            await releaseSlot(this.resources, runId);
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
          },
        },
      );
      // Its waitpoints may all have completed while the worker was checkpointing.
      await this.blocking.continueIfUnblocked(runId);
      return { checkpointId: checkpoint.id, snapshotId: state.snapshot.id };
    });
  }

  /**
   * A worker restores a run it was handed from a checkpoint: PENDING_EXECUTING → EXECUTING, in the
   * same attempt (a resume is no new attempt). StaleSnapshotError when the run moved on.
   */
  async restore(runId: string, report: { workerId: string; snapshotId: string }): Promise<{ snapshotId: string; attemptNumber: number }> {
    const { snapshots, locker, runQueue } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (latest.id !== report.snapshotId || latest.executionStatus !== "PENDING_EXECUTING" || latest.checkpointId === null) {
        throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
      }
      const attemptNumber = latest.attemptNumber ?? 1;
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "EXECUTING",
          runStatus: "EXECUTING",
          description: `Restored from checkpoint ${latest.checkpointId} on worker ${report.workerId}; attempt ${attemptNumber} continues`,
          workerId: report.workerId,
          // the checkpoint is consumed: a later retry of this run starts afresh, not from it
          checkpointId: null,
        },
        {
          afterCommit: async (next) => {
            await trackHeartbeat(this.resources, next);
            await runQueue.extend(runId);
          },
        },
      );
      return { snapshotId: state.snapshot.id, attemptNumber };
    });
  }

  /**
   * Where the wait of a worker that blocked at `snapshotId` stands: still waiting, continued (with
   * the waitpoints' outcomes), cancelled while waiting, or no longer this worker's.
   */
  async waitStatus(runId: string, report: { workerId: string; snapshotId: string }): Promise<WaitStatusResponse> {
    const latest = await this.resources.snapshots.latestSnapshot(runId);
    if (!latest) throw new NotFoundError("TaskRun", runId);
    const ours = latest.workerId === report.workerId;
    if (latest.id === report.snapshotId && latest.executionStatus === "EXECUTING_WITH_WAITPOINTS") {
      return { state: "waiting", snapshotId: latest.id, completedWaitpoints: [] };
    }
    if (ours && latest.executionStatus === "PENDING_CANCEL") return { state: "cancel", snapshotId: latest.id, completedWaitpoints: [] };
    if (ours && latest.executionStatus === "EXECUTING" && latest.previousSnapshotId === report.snapshotId) {
      return { state: "resumed", snapshotId: latest.id, completedWaitpoints: await completedWaitpointsOf(this.resources, latest.id) };
    }
    return { state: "stale", snapshotId: latest.id, completedWaitpoints: [] };
  }
}

/**
 * Frees the run's slot. A run the queue no longer has in flight (its visibility deadline passed and
 * it was reclaimed) holds no slot to free; that is logged, not an error of the checkpoint.
 */
async function releaseSlot(resources: EngineResources, runId: string): Promise<void> {
  try {
    await resources.runQueue.release(runId);
  } catch (error) {
    if (!(error instanceof RunQueueError && (error.code === "RUN_NOT_IN_FLIGHT" || error.code === "RUN_NOT_FOUND"))) throw error;
    resources.logger.warn({ event: "checkpoint:slot-not-held", runId, code: error.code }, "checkpointed run held no queue slot");
  }
}

/**
 * What a worker needs to restore a run queued from a checkpoint (`latest` is its QUEUED snapshot):
 * the journal, and the outcomes of the waitpoints whose completion queued it. Undefined for a run
 * that was not checkpointed.
 */
export async function resumeFromCheckpoint(resources: EngineResources, latest: ExecutionSnapshot): Promise<ResumeFromCheckpoint | undefined> {
  if (latest.checkpointId === null) return undefined;
  const { prisma } = resources;
  const checkpoint = await prisma.checkpoint.findUniqueOrThrow({ where: { id: latest.checkpointId } });
  const queued = await prisma.executionSnapshot.findFirst({
    // the QUEUED snapshot written when its waits completed (a later requeue carries no waitpoints)
    where: { runId: latest.runId, checkpointId: checkpoint.id, executionStatus: "QUEUED", isValid: true, completedWaitpoints: { some: {} } },
    orderBy: { sequence: "desc" },
    select: { id: true },
  });
  return {
    checkpointId: checkpoint.id,
    journal: journalSchema.parse(checkpoint.journal),
    completedWaitpoints: queued ? await completedWaitpointsOf(resources, queued.id) : [],
  };
}

/** The waitpoints a snapshot carries as completed, in order, with their outcomes. */
async function completedWaitpointsOf(resources: EngineResources, snapshotId: string): Promise<CompletedWaitpoint[]> {
  const rows = await resources.prisma.snapshotCompletedWaitpoint.findMany({
    where: { snapshotId },
    orderBy: { index: "asc" },
    include: { waitpoint: { select: { id: true, type: true, output: true, outputIsError: true } } },
  });
  return rows.map(({ waitpoint }) => ({ id: waitpoint.id, type: waitpoint.type, output: waitpoint.output, isError: waitpoint.outputIsError }));
}
