import { sqlPool, type ExecutionSnapshot } from "@runengine/database";
import { RunQueueError } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError, StaleSnapshotError, ValidationError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { completedWaitpointsSchema, journalSchema, type CompletedWaitpoint, type Journal, type ResumeFromCheckpoint, type WaitStatusResponse } from "../schemas/waitpoint.ts";
import { runWithLatestSnapshot } from "../snapshots/runRows.ts";
import type { RunState } from "../snapshots/types.ts";
import { newCheckpointId } from "../systems/ids.ts";
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
  async suspend(environmentId: string, runId: string, report: CheckpointReport, known?: RunState): Promise<{ checkpointId: string; snapshotId: string }> {
    const { prisma, snapshots, locker } = this.resources;
    return locker.lock(runId, async () => {
      const found = known ? { run: known.run, latest: known.snapshot } : await runWithLatestSnapshot(prisma, runId);
      if (!found || found.run.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
      const { run, latest } = found;
      if (latest.id !== report.snapshotId || latest.workerId !== report.workerId) {
        throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
      }
      if (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS") {
        throw new ValidationError("snapshotId", `run ${runId} is ${latest.executionStatus}; only a run blocked by waitpoints can be checkpointed`);
      }
      if (!run.lockedToDeploymentId) throw new ValidationError("runId", `run ${runId} is not locked to a deployment`);
      const checkpointId = await insertCheckpoint(this.resources, {
        runId,
        environmentId,
        attemptNumber: latest.attemptNumber ?? run.attemptNumber,
        deploymentId: run.lockedToDeploymentId,
        journal: report.journal,
        reason: report.reason ?? null,
      });
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "SUSPENDED",
          runStatus: "WAITING_TO_RESUME",
          description: `Checkpointed by worker ${report.workerId} (${report.journal.length} journal entries); off the worker, its slot released until its waitpoints complete`,
          checkpointId,
          workerId: null,
        },
        {
          latest,
          afterCommit: async (next) => {
            await trackHeartbeat(this.resources, next);
            await releaseSlot(this.resources, runId);
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
          },
        },
      );
      // Its waitpoints may all have completed while the worker was checkpointing.
      await this.blocking.continueIfUnblocked(runId, state.snapshot);
      return { checkpointId, snapshotId: state.snapshot.id };
    });
  }

  /**
   * suspend() for a run that may have moved on since it blocked (its wait ended at once, a cancel):
   * false then, instead of an error, and the worker keeps the run. `known` is the run's state as
   * the caller, holding the run's lock, has just written it.
   */
  async trySuspend(environmentId: string, runId: string, report: CheckpointReport, known?: RunState): Promise<boolean> {
    try {
      await this.suspend(environmentId, runId, report, known);
      return true;
    } catch (error) {
      if (error instanceof StaleSnapshotError || error instanceof ValidationError) return false;
      throw error;
    }
  }

  /**
   * A worker restores a run it was handed from a checkpoint: PENDING_EXECUTING → EXECUTING, in the
   * same attempt (a resume is no new attempt). StaleSnapshotError when the run moved on.
   */
  async restore(environmentId: string, runId: string, report: { workerId: string; snapshotId: string }): Promise<{ snapshotId: string; attemptNumber: number }> {
    const { snapshots, locker, runQueue } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest || latest.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
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
          latest,
          afterCommit: async (next) => {
            await Promise.all([trackHeartbeat(this.resources, next), runQueue.extend(runId)]);
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
  async waitStatus(environmentId: string, runId: string, report: { workerId: string; snapshotId: string }): Promise<WaitStatusResponse> {
    const latest = await this.resources.snapshots.latestSnapshot(runId);
    if (!latest || latest.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
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

/** A new checkpoint row; its id. */
async function insertCheckpoint(
  resources: EngineResources,
  checkpoint: { runId: string; environmentId: string; attemptNumber: number; deploymentId: string; journal: Journal; reason: string | null },
): Promise<string> {
  const id = newCheckpointId();
  await sqlPool(resources.prisma).query({
    name: "re_insert_checkpoint",
    text: `INSERT INTO "Checkpoint" ("id", "runId", "environmentId", "attemptNumber", "deploymentId", "journal", "reason")
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
    values: [id, checkpoint.runId, checkpoint.environmentId, checkpoint.attemptNumber, checkpoint.deploymentId, JSON.stringify(checkpoint.journal), checkpoint.reason],
  });
  return id;
}

/** A waitpoint's outcome as a JSON object, in `index` order (SQL shared by the reads below). */
const completedWaitpointsJson = `COALESCE((
    SELECT json_agg(json_build_object('id', w.id, 'type', w.type, 'output', w.output, 'isError', w."outputIsError") ORDER BY c."index")
      FROM "SnapshotCompletedWaitpoint" c JOIN "Waitpoint" w ON w.id = c."waitpointId"
     WHERE c."snapshotId" = $snapshot), '[]')`;

/**
 * What a worker needs to restore a run queued from a checkpoint (`latest` is its QUEUED snapshot):
 * the journal, and the outcomes of the waitpoints whose completion queued it (carried by the QUEUED
 * snapshot written when its waits completed; a later requeue carries none). One query. Undefined
 * for a run that was not checkpointed.
 */
export async function resumeFromCheckpoint(resources: EngineResources, latest: ExecutionSnapshot): Promise<ResumeFromCheckpoint | undefined> {
  if (latest.checkpointId === null) return undefined;
  const { rows } = await sqlPool(resources.prisma).query<{ journal: unknown; completed: unknown }>({
    name: "re_resume_from_checkpoint",
    text: `SELECT cp.journal, ${completedWaitpointsJson.replace("$snapshot", "q.id")} AS completed
             FROM "Checkpoint" cp
             LEFT JOIN LATERAL (
               SELECT s.id FROM "ExecutionSnapshot" s
                WHERE s."runId" = cp."runId" AND s."checkpointId" = cp.id AND s."executionStatus" = 'QUEUED' AND s."isValid"
                  AND EXISTS (SELECT 1 FROM "SnapshotCompletedWaitpoint" x WHERE x."snapshotId" = s.id)
                ORDER BY s.sequence DESC LIMIT 1) q ON true
            WHERE cp.id = $1`,
    values: [latest.checkpointId],
  });
  const row = rows[0];
  if (!row) throw new NotFoundError("Checkpoint", latest.checkpointId);
  return { checkpointId: latest.checkpointId, journal: journalSchema.parse(row.journal), completedWaitpoints: completedWaitpointsSchema.parse(row.completed) };
}

/** The waitpoints a snapshot carries as completed, in order, with their outcomes. */
async function completedWaitpointsOf(resources: EngineResources, snapshotId: string): Promise<CompletedWaitpoint[]> {
  const { rows } = await sqlPool(resources.prisma).query<{ completed: unknown }>({
    name: "re_completed_waitpoints",
    text: `SELECT ${completedWaitpointsJson.replace("$snapshot", "$1")} AS completed`,
    values: [snapshotId],
  });
  return completedWaitpointsSchema.parse(rows[0]?.completed);
}
