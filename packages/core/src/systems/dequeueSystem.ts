import type { ExecutionSnapshot, TaskRun } from "@runengine/database";
import type { DequeuedMessage } from "@runengine/run-queue";
import { StaleSnapshotError } from "../errors/runEngineError.ts";
import type { DispatchRequest } from "../dispatch/dispatchRelay.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import type { DequeuedRun } from "../schemas/workerProtocol.ts";
import { readWhileLocking, runWithLatestSnapshot } from "../snapshots/runRows.ts";
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

  /**
   * The run is read while its lock is being taken, not after: the hand-over write is fenced on the
   * snapshot it was decided from, so a read that a change overtook fails that write and nothing
   * else. Every other outcome (and a fenced-out hand-over) is decided again on a read under the lock.
   */
  private lockToWorker(message: DequeuedMessage, worker: WorkerContext): Promise<DequeuedRun | undefined> {
    const runId = message.runId;
    const early = readWhileLocking(this.resources.prisma, runId);
    return this.resources.locker.lock(runId, async () => {
      const found = await early;
      if (found && found.latest.executionStatus === "QUEUED" && runnableHere(found.run, worker)) {
        try {
          return await this.handOver(found, worker);
        } catch (error) {
          if (!(error instanceof StaleSnapshotError)) throw error;
        }
      }
      return this.decide(runId, await runWithLatestSnapshot(this.resources.prisma, runId), worker);
    });
  }

  /** What to do with a dequeued run, from a read made under its lock. */
  private async decide(runId: string, found: { run: TaskRun; latest: ExecutionSnapshot } | null, worker: WorkerContext): Promise<DequeuedRun | undefined> {
    const { snapshots, runQueue, logger } = this.resources;
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
    if (runnableHere(run, worker)) return this.handOver(found, worker);

    const lockedTo = run.lockedToDeploymentId !== null && run.lockedToDeploymentId !== worker.deploymentId ? run.lockedToDeploymentId : undefined;
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
      { latest, afterCommit: () => runQueue.ack(runId).then(() => undefined) },
    );
    return undefined;
  }

  /** QUEUED → PENDING_EXECUTING on `worker`, fenced on the snapshot read (StaleSnapshotError). */
  private async handOver({ run, latest }: { run: TaskRun; latest: ExecutionSnapshot }, worker: WorkerContext): Promise<DequeuedRun> {
    const task = worker.tasks.get(run.taskIdentifier)!;
    const resume = await resumeFromCheckpoint(this.resources, latest);
    const state = await this.resources.snapshots.mutate(
      run.id,
      {
        expectedSnapshotId: latest.id,
        executionStatus: "PENDING_EXECUTING",
        runStatus: "DEQUEUED",
        description: resume ? `Dequeued for worker ${worker.workerId} to restore checkpoint ${resume.checkpointId}` : `Dequeued for worker ${worker.workerId}`,
        workerId: worker.workerId,
      },
      // answered with the lock's release: the worker cannot beat before it has the reply
      { latest, afterCommit: async (next) => this.resources.locker.withRelease(run.id, trackHeartbeat(this.resources, next)) },
    );
    return {
      runId: run.id,
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
  }
}

/** The worker has the run's task, of the version the run is locked to (if it is). */
function runnableHere(run: TaskRun, worker: WorkerContext): boolean {
  return worker.tasks.has(run.taskIdentifier) && (run.lockedToDeploymentId === null || run.lockedToDeploymentId === worker.deploymentId);
}
