import { Prisma, type TaskRun, type TaskRunStatus } from "@runengine/database";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import type { JobPayload } from "../jobs/catalog.ts";
import { nextRetryDelayMs } from "../retrying/backoff.ts";
import { retryPolicySchema, type RetryPolicy } from "../schemas/workerProtocol.ts";
import { runStatusFromError, type TaskRunErrorCode } from "../state-machine/runStatusFromError.ts";
import { isExecuting } from "../state-machine/statuses.ts";
import type { RunState, RunUpdate, SnapshotView } from "../snapshots/types.ts";
import type { EngineResources } from "./resources.ts";
import { completeRunWaitpoint } from "../waitpoints/waitpointSystem.ts";
import { requeueRun } from "./runQueueEntry.ts";
import { runRow } from "../snapshots/runRows.ts";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";

/** How a worker's reason for a failed attempt reads as an error code (hand-backs are no failure). */
const errorCodeOfReport = {
  TASK_ERROR: "TASK_RUN_ERROR",
  MAX_DURATION_EXCEEDED: "MAX_DURATION_EXCEEDED",
  CANCELLED: "TASK_RUN_CANCELLED",
  CRASHED: "TASK_RUN_CRASHED",
} as const satisfies Record<string, TaskRunErrorCode>;

/** Failures worth another attempt when the error allows it: the task's own, or its process dying. */
const retryableCodes: ReadonlySet<TaskRunErrorCode> = new Set(["TASK_RUN_ERROR", "TASK_RUN_CRASHED"]);

/** Hand-offs to workers that never start the attempt, before the run fails as stalled. */
const maxUnstartedHandoffs = 5;

/** The policy of a run whose deployment declared none (or which never reached a worker). */
const fallbackRetryPolicy: RetryPolicy = { maxAttempts: 3, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, randomize: true };

type AttemptReport = JobPayload<"attemptResults">["results"][number];

export interface RunError {
  name: string;
  message: string;
  stack?: string;
  code: TaskRunErrorCode;
}

/**
 * Ends attempts: success, failure with retry or a final status, stalls, and the last step of a
 * cancel. Every final state acks the run queue exactly once (in the same locked operation that
 * writes FINISHED), which releases the run's concurrency slot.
 */
export class FinalizeSystem {
  constructor(private readonly resources: EngineResources) {}

  /**
   * The finalizer's handler for workers' reports (job `attemptResults`): each result on its own, at
   * once. When some failed, the job fails after the others applied, and its retry skips them.
   */
  async applyAttemptResults({ results }: JobPayload<"attemptResults">): Promise<void> {
    const outcomes = await Promise.allSettled(results.map((result) => this.applyAttemptResult(result)));
    const failures = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason as unknown] : []));
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} of ${results.length} attempt results failed to apply`);
  }

  /**
   * One worker's report of an attempt's result, decided from the snapshot the api saw when it
   * accepted the report. Every decision from it ends in a write fenced on that snapshot, so a run
   * that moved on since (a cancel came in) fails the write, and the result is decided again from
   * a fresh read.
   */
  async applyAttemptResult(report: AttemptReport): Promise<void> {
    await this.resources.locker.lock(report.runId, async () => {
      const { seen } = report;
      if (seen) {
        try {
          return await this.decideAttemptResult(seen, report);
        } catch (error) {
          // only this run's write, fenced on `seen`, is decided again; any other error is the job's
          if (!(error instanceof StaleSnapshotError && error.runId === seen.runId && error.expectedSnapshotId === seen.id)) throw error;
        }
      }
      const latest = await this.resources.snapshots.latestSnapshot(report.runId);
      if (latest) await this.decideAttemptResult(latest, report);
    });
  }

  private async decideAttemptResult(latest: SnapshotView, { runId, snapshotId, workerId, result }: AttemptReport): Promise<void> {
    if (latest.executionStatus === "PENDING_CANCEL" && latest.workerId === workerId) {
      await this.finish(latest, "CANCELED", "Cancelled; the worker stopped the attempt");
      return;
    }
    if (latest.id !== snapshotId || !isExecuting(latest.executionStatus)) {
      this.resources.logger.debug({ event: "snapshot:rejected", runId, snapshotId, latestSnapshotId: latest.id }, "stale attempt result ignored");
      return;
    }
    if (result.ok) {
      await this.finish(latest, "COMPLETED_SUCCESSFULLY", `Attempt ${latest.attemptNumber} succeeded`, {
        output: result.output === undefined ? Prisma.JsonNull : (result.output as Prisma.InputJsonValue),
        error: Prisma.JsonNull,
      });
      return;
    }
    if (result.reason === "WORKER_SHUTDOWN") {
      // not the task's failure: the run goes back as it was, for another worker
      await this.requeueAsPending(latest, `Attempt ${latest.attemptNumber} handed back by its stopping worker; queued again`);
      return;
    }
    const code = errorCodeOfReport[result.reason];
    await this.failAttempt(latest, { ...result.error, code }, retryableCodes.has(code) && result.error.retryable);
  }

  /** An executing attempt missed its heartbeat deadline (job `attemptStalled`). */
  async applyAttemptStalled({ runId, snapshotId }: JobPayload<"attemptStalled">): Promise<void> {
    await this.resources.locker.lock(runId, async () => {
      const latest = await this.resources.snapshots.latestSnapshot(runId);
      if (latest?.id !== snapshotId || !isExecuting(latest.executionStatus)) return;
      const error: RunError = {
        name: "HeartbeatTimeout",
        message: `Attempt ${latest.attemptNumber} stopped sending heartbeats (worker ${latest.workerId ?? "unknown"})`,
        code: "HEARTBEAT_TIMEOUT",
      };
      await this.failAttempt(latest, error, true);
    });
  }

  /** A cancel the worker never confirmed (job `finishCancel`). */
  async applyFinishCancel({ runId, snapshotId, reason }: JobPayload<"finishCancel">): Promise<void> {
    await this.resources.locker.lock(runId, async () => {
      const latest = await this.resources.snapshots.latestSnapshot(runId);
      if (latest?.id !== snapshotId || latest.executionStatus !== "PENDING_CANCEL") return;
      await this.finish(latest, "CANCELED", reason);
    });
  }

  /**
   * A dequeued run whose worker never started it goes back to its queue (heartbeat monitor); after
   * `maxUnstartedHandoffs` such hand-offs for one attempt, something is wrong with the run itself
   * (workers take it and die), and it ends as a SYSTEM_FAILURE instead of cycling forever.
   */
  async requeueUnstarted(runId: string, snapshotId: string): Promise<void> {
    await this.resources.locker.lock(runId, async () => {
      const { prisma, snapshots } = this.resources;
      const latest = await snapshots.latestSnapshot(runId);
      if (latest?.id !== snapshotId || latest.executionStatus !== "PENDING_EXECUTING") return;
      // hand-offs for the coming attempt carry the number of the attempt before it
      const handoffs = await prisma.executionSnapshot.count({
        where: { runId, isValid: true, executionStatus: "PENDING_EXECUTING", attemptNumber: latest.attemptNumber },
      });
      if (handoffs >= maxUnstartedHandoffs) {
        const error: RunError = {
          name: "TaskRunStalled",
          message: `Handed to a worker ${handoffs} times and never started`,
          code: "TASK_RUN_STALLED",
        };
        await this.finish(latest, runStatusFromError(error.code), error.message, { error: error as unknown as Prisma.InputJsonValue });
        return;
      }
      await this.requeueAsPending(latest, `Worker ${latest.workerId ?? "unknown"} did not start the attempt in time; queued again`);
    });
  }

  /**
   * A dequeued run whose worker stopped waiting before the run reached it (the api got it for a
   * withdrawn long poll): queued again at once, rather than after the PENDING_EXECUTING deadline.
   */
  async requeueUndelivered(runId: string, snapshotId: string): Promise<void> {
    await this.resources.locker.lock(runId, async () => {
      const latest = await this.resources.snapshots.latestSnapshot(runId);
      if (latest?.id !== snapshotId || latest.executionStatus !== "PENDING_EXECUTING") return;
      await this.requeueAsPending(latest, `Worker ${latest.workerId ?? "unknown"} stopped polling before the run reached it; queued again`);
    });
  }

  private async requeueAsPending(latest: SnapshotView, description: string): Promise<void> {
    await this.resources.snapshots.mutate(
      latest.runId,
      { expectedSnapshotId: latest.id, executionStatus: "QUEUED", runStatus: "PENDING", description, workerId: null },
      { latest, afterCommit: (state) => this.requeue(state, Date.now()) },
    );
  }

  private async failAttempt(latest: SnapshotView, error: RunError, retryable: boolean): Promise<void> {
    const run = await runRow(this.resources.prisma, latest.runId);
    if (!run) throw new NotFoundError("TaskRun", latest.runId);
    const failedAttempt = latest.attemptNumber ?? run.attemptNumber;
    const delay = retryable ? nextRetryDelayMs(await this.retryPolicy(run), failedAttempt) : undefined;
    if (delay !== undefined) {
      await this.retry(latest, error, delay, `Attempt ${failedAttempt} failed (${error.name}: ${error.message}); retrying in ${delay} ms`);
      return;
    }
    const status = runStatusFromError(error.code);
    await this.finish(latest, status, `Attempt ${failedAttempt} failed (${error.name}: ${error.message}); run ${status}`, {
      error: error as unknown as Prisma.InputJsonValue,
    });
  }

  private async retry(latest: SnapshotView, error: RunError, delayMs: number, description: string): Promise<void> {
    await this.resources.snapshots.mutate(
      latest.runId,
      {
        expectedSnapshotId: latest.id,
        executionStatus: "QUEUED",
        runStatus: "RETRYING_AFTER_FAILURE",
        description,
        workerId: null,
        runUpdate: { error: error as unknown as Prisma.InputJsonValue },
      },
      { latest, afterCommit: (state) => this.requeue(state, Date.now() + delayMs) },
    );
  }

  /** Back to the queue, releasing the slot until the run is dequeued again at `retryAt`. */
  private async requeue(state: RunState, retryAt: number): Promise<void> {
    await trackHeartbeat(this.resources, state);
    await requeueRun(this.resources, state.run, retryAt);
  }

  private async finish(
    latest: SnapshotView,
    status: TaskRunStatus,
    description: string,
    runUpdate: RunUpdate = {},
  ): Promise<void> {
    await this.resources.snapshots.mutate(
      latest.runId,
      {
        expectedSnapshotId: latest.id,
        executionStatus: "FINISHED",
        runStatus: status,
        description,
        runUpdate: { ...runUpdate, completedAt: new Date() },
      },
      {
        latest,
        // side by side: the slot's release is announced once it is done, the rest is independent
        afterCommit: async (state) => {
          await Promise.all([
            trackHeartbeat(this.resources, state),
            this.resources.runQueue.ack(state.run.id).then(() => publishWorkAvailable(this.resources.redis, this.resources.relayKeys)),
            completeRunWaitpoint(this.resources, state.run),
          ]);
        },
      },
    );
  }

  private async retryPolicy(run: TaskRun): Promise<RetryPolicy> {
    const task = run.lockedToDeploymentId
      ? await this.resources.prisma.backgroundTask.findUnique({
          where: { deploymentId_taskIdentifier: { deploymentId: run.lockedToDeploymentId, taskIdentifier: run.taskIdentifier } },
          select: { retryConfig: true },
        })
      : null;
    const declared = retryPolicySchema.safeParse(task?.retryConfig);
    const policy = declared.success ? declared.data : fallbackRetryPolicy;
    return run.maxAttempts === null ? policy : { ...policy, maxAttempts: run.maxAttempts };
  }
}
