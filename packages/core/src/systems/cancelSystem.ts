import type { TaskRunStatus } from "@runengine/database";
import { RunQueueError, type RunQueue } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { isFinalExecutionStatus, isOnWorker } from "../state-machine/statuses.ts";
import type { EngineResources } from "./resources.ts";

/**
 * Cancels a run. Off a worker it finishes at once (and leaves the queue); on a worker it becomes
 * PENDING_CANCEL, the worker learns it from its next heartbeat and aborts the task, and its report
 * (or, failing that, the heartbeat monitor) finishes the run as CANCELED.
 */
export class CancelSystem {
  constructor(private readonly resources: EngineResources) {}

  /** Returns the run's status after the call; a final run is left as it is. */
  async cancel(runId: string, reason = "Cancelled by request"): Promise<TaskRunStatus> {
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
            await removeFromQueue(runQueue, runId);
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
          },
        },
      );
      return state.run.status;
    });
  }
}

/**
 * A dispatcher may have dequeued the run a moment ago and be waiting for the lock we hold: then
 * the entry is in flight, and that dispatcher acks it when it finds the run finished.
 */
async function removeFromQueue(runQueue: RunQueue, runId: string): Promise<void> {
  try {
    await runQueue.remove(runId);
  } catch (error) {
    if (!(error instanceof RunQueueError && error.code === "RUN_IN_FLIGHT")) throw error;
  }
}
