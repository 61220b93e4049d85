import type { TaskRunStatus } from "@runengine/database";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { isFinalExecutionStatus, isOnWorker } from "../state-machine/statuses.ts";
import type { EngineResources } from "./resources.ts";
import { removeFromQueue } from "./runQueueEntry.ts";
import { finalRunStatuses } from "../state-machine/transitions.ts";
import { completeRunWaitpoint } from "../waitpoints/waitpointSystem.ts";

/**
 * Cancels a run. Off a worker it finishes at once (and leaves the queue); on a worker it becomes
 * PENDING_CANCEL, the worker learns it from its next heartbeat and aborts the task, and its report
 * (or, failing that, the heartbeat monitor) finishes the run as CANCELED.
 */
export class CancelSystem {
  constructor(private readonly resources: EngineResources) {}

  /**
   * Returns the run's status after the call; a final run is left as it is. The run's unfinished
   * children (runs it triggered, which it may be waiting on) are cancelled after it, recursively,
   * each under its own lock only.
   */
  async cancel(runId: string, reason = "Cancelled by request"): Promise<TaskRunStatus> {
    const status = await this.cancelOne(runId, reason);
    const children = await this.resources.prisma.taskRun.findMany({
      where: { parentRunId: runId, status: { notIn: [...finalRunStatuses] } },
      select: { id: true },
    });
    for (const child of children) await this.cancel(child.id, `Parent run ${runId} was cancelled`);
    return status;
  }

  private async cancelOne(runId: string, reason: string): Promise<TaskRunStatus> {
    const { snapshots, runQueue, locker } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (isFinalExecutionStatus(latest.executionStatus) || latest.executionStatus === "PENDING_CANCEL") return latest.runStatus;

      if (isOnWorker(latest.executionStatus)) {
        const state = await snapshots.mutate(
          runId,
          {
            expectedSnapshotId: latest.id,
            executionStatus: "PENDING_CANCEL",
            runStatus: "CANCELED",
            description: `${reason}; waiting for worker ${latest.workerId ?? "unknown"} to stop the attempt`,
          },
          { afterCommit: (next) => trackHeartbeat(this.resources, next) },
        );
        return state.run.status;
      }

      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "FINISHED",
          runStatus: "CANCELED",
          description: reason,
          runUpdate: { completedAt: new Date() },
        },
        {
          afterCommit: async (next) => {
            await trackHeartbeat(this.resources, next);
            // a delayed run is not in the queue yet: its due-time job goes instead
            if (latest.executionStatus === "DELAYED") await this.resources.jobs.unschedule("enqueueDelayedRun", { runId });
            await removeFromQueue(runQueue, runId);
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
            await completeRunWaitpoint(this.resources, next.run);
          },
        },
      );
      return state.run.status;
    });
  }
}
