import type { DequeuedMessage } from "@runengine/run-queue";
import type { DispatchRequest } from "../dispatch/dispatchRelay.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import type { DequeuedRun } from "../schemas/workerProtocol.ts";
import { runWithLatestSnapshot } from "../snapshots/runRows.ts";
import { isFinalExecutionStatus } from "../state-machine/statuses.ts";
import type { EngineResources } from "./resources.ts";
import { resumeFromCheckpoint } from "../waitpoints/checkpointSystem.ts";
import type { WorkerContext, WorkerSystem } from "./workerSystem.ts";

/** A run that another live worker can execute goes back to the queue for this long. */
const otherDeploymentRetryMs = 250;

/**
 * Takes runs from the fair queue for one worker's free slots and locks each to that worker
 * (QUEUED → PENDING_EXECUTING, with a heartbeat deadline). A run no live worker can execute (its
 * task, of the version it is locked to) is parked as PENDING_VERSION and leaves the queue until a
 * worker with its task registers.
 */
export class DequeueSystem {
  constructor(
    private readonly resources: EngineResources,
    private readonly workers: WorkerSystem,
  ) {}

  async dequeueForWorker(request: Pick<DispatchRequest, "workerId" | "maxRuns">): Promise<DequeuedRun[]> {
    const worker = await this.workers.context(request.workerId);
    await this.workers.touch(worker.workerId);
    const messages = await this.resources.runQueue.dequeue({
      consumerId: worker.workerId,
      maxCount: request.maxRuns,
      envIds: [worker.environmentId],
    });
    const runs = await Promise.all(messages.map((message) => this.lockToWorker(message, worker)));
    return runs.filter((run): run is DequeuedRun => run !== undefined);
  }

  private lockToWorker(message: DequeuedMessage, worker: WorkerContext): Promise<DequeuedRun | undefined> {
    const { prisma, snapshots, runQueue, locker, logger } = this.resources;
    const runId = message.runId;
    return locker.lock(runId, async () => {
      const found = await runWithLatestSnapshot(prisma, runId);
      const latest = found?.latest;
      if (!latest || isFinalExecutionStatus(latest.executionStatus)) {
        // Finished (or never existed) while its queue entry lingered: the entry goes, its slot with it.
        await runQueue.ack(runId);
        return undefined;
      }
      if (latest.executionStatus !== "QUEUED") {
        // The engine holds the run in another state (a queue reclaim raced a live attempt): the
        // attempt keeps its slot, and its heartbeats keep this entry alive.
        logger.warn({ event: "dequeue:not-queued", runId, executionStatus: latest.executionStatus }, "dequeued a run that is not queued");
        return undefined;
      }

      const run = found.run;
      const task = worker.tasks.get(run.taskIdentifier);
      const lockedElsewhere = run.lockedToDeploymentId !== null && run.lockedToDeploymentId !== worker.deploymentId;
      if (!task || lockedElsewhere) {
        const lockedTo = lockedElsewhere ? (run.lockedToDeploymentId ?? undefined) : undefined;
        if (await this.workers.hasLiveWorker(worker.environmentId, run.taskIdentifier, lockedTo)) {
          await runQueue.nack(runId, { retryAt: Date.now() + otherDeploymentRetryMs });
          return undefined;
        }
        await snapshots.mutate(
          runId,
          {
            expectedSnapshotId: latest.id,
            executionStatus: "RUN_CREATED",
            runStatus: "PENDING_VERSION",
            description: lockedTo
              ? `No live worker of the version this run started on has task "${run.taskIdentifier}"; waiting for one`
              : `No live worker has task "${run.taskIdentifier}"; waiting for one to register`,
          },
          { afterCommit: () => runQueue.ack(runId).then(() => undefined) },
        );
        return undefined;
      }

      const resume = await resumeFromCheckpoint(this.resources, latest);
      const state = await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "PENDING_EXECUTING",
          runStatus: "DEQUEUED",
          description: resume ? `Dequeued for worker ${worker.workerId} to restore checkpoint ${resume.checkpointId}` : `Dequeued for worker ${worker.workerId}`,
          workerId: worker.workerId,
        },
        { latest, afterCommit: (next) => trackHeartbeat(this.resources, next) },
      );
      return {
        runId,
        snapshotId: state.snapshot.id,
        taskId: run.taskIdentifier,
        payload: run.payload,
        queue: run.queue,
        // a run restored from a checkpoint continues its attempt; otherwise the next one starts
        attemptNumber: resume ? run.attemptNumber : run.attemptNumber + 1,
        tags: run.tags,
        metadata: run.metadata,
        createdAt: run.createdAt,
        ...(task.maxDurationSeconds !== null ? { maxDurationSeconds: task.maxDurationSeconds } : {}),
        environment: { id: worker.environmentId, name: worker.environmentName, type: worker.environmentType },
        deployment: { id: worker.deploymentId, version: worker.version },
        ...(resume ? { resume } : {}),
      };
    });
  }
}
