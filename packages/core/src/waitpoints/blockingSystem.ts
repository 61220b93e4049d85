import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import type { RunState } from "../snapshots/types.ts";
import type { EngineResources } from "../systems/resources.ts";

/** One waitpoint a run waits on; `batchIndex` places its result in a batchTriggerAndWait. */
export interface BlockingWaitpoint {
  waitpointId: string;
  batchIndex?: number;
}

export type ContinueOutcome = "not-waiting" | "blocked" | "continued-on-worker" | "queued-to-resume";

/**
 * Blocking edges between runs and waitpoints. A run is blocked until every waitpoint it has an
 * edge to is complete; the "all complete?" check and the move it leads to happen under the run's
 * lock, so a run blocked by several waitpoints that complete at once continues exactly once.
 * Edges are deleted only after that move, by the operation that made it.
 */
export class BlockingSystem {
  constructor(private readonly resources: EngineResources) {}

  /**
   * EXECUTING → EXECUTING_WITH_WAITPOINTS, blocked by `waitpoints` (the run stays on its worker and
   * keeps its slot until it checkpoints). StaleSnapshotError unless `snapshotId` is the run's
   * newest and it is EXECUTING. A waitpoint completed already still counts: the run is continued
   * at once.
   */
  async block(runId: string, report: { workerId: string; snapshotId: string }, waitpoints: readonly BlockingWaitpoint[], description: string): Promise<RunState> {
    const { prisma, snapshots, locker } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (latest.id !== report.snapshotId || latest.executionStatus !== "EXECUTING" || latest.workerId !== report.workerId) {
        throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
      }
      // Edges left by an earlier attempt (it failed or was cancelled mid-wait) must not block this one.
      await prisma.taskRunWaitpoint.deleteMany({ where: { runId } });
      await prisma.taskRunWaitpoint.createMany({
        data: waitpoints.map((w) => ({ runId, waitpointId: w.waitpointId, batchIndex: w.batchIndex ?? null })),
      });
      const state = await snapshots.mutate(
        runId,
        { expectedSnapshotId: latest.id, executionStatus: "EXECUTING_WITH_WAITPOINTS", runStatus: "EXECUTING", description },
        { afterCommit: (next) => trackHeartbeat(this.resources, next) },
      );
      await this.continueIfUnblocked(runId);
      return state;
    });
  }

  /**
   * Handler of `continueRunIfUnblocked`: when every waitpoint blocking the run is complete, a run
   * still on its worker continues there (EXECUTING, with the completed waitpoints on the snapshot);
   * a suspended run is queued again (QUEUED, same checkpoint) to be restored by a worker. Anything
   * else (not waiting, still blocked, already continued) is left alone.
   */
  async continueIfUnblocked(runId: string): Promise<ContinueOutcome> {
    const { prisma, snapshots, locker, runQueue } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest || (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS" && latest.executionStatus !== "SUSPENDED")) return "not-waiting";
      const edges = await prisma.taskRunWaitpoint.findMany({
        where: { runId },
        include: { waitpoint: { select: { status: true } } },
        orderBy: [{ batchIndex: "asc" }, { createdAt: "asc" }],
      });
      const pending = edges.filter((edge) => edge.waitpoint.status !== "COMPLETED").length;
      if (pending > 0) return "blocked";
      const completedWaitpointIds = edges.map((edge) => edge.waitpointId);
      const waits = `${edges.length} waitpoint${edges.length === 1 ? "" : "s"} completed`;
      const deleteEdges = () => prisma.taskRunWaitpoint.deleteMany({ where: { runId } }).then(() => undefined);

      if (latest.executionStatus === "EXECUTING_WITH_WAITPOINTS") {
        await snapshots.mutate(
          runId,
          {
            expectedSnapshotId: latest.id,
            executionStatus: "EXECUTING",
            runStatus: "EXECUTING",
            description: `${waits}; continuing on worker ${latest.workerId ?? "unknown"}`,
            completedWaitpointIds,
          },
          {
            afterCommit: async (next) => {
              await trackHeartbeat(this.resources, next);
              await deleteEdges();
            },
          },
        );
        return "continued-on-worker";
      }

      await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "QUEUED",
          runStatus: "PENDING",
          description: `${waits}; queued to resume from checkpoint ${latest.checkpointId ?? "(none)"}`,
          completedWaitpointIds,
        },
        {
          afterCommit: async (next) => {
            await trackHeartbeat(this.resources, next);
            await deleteEdges();
            // A released run queued again: it keeps its first place in line, so resumed runs go first.
            await runQueue.enqueue({
              runId,
              orgId: next.run.organizationId,
              envId: next.run.environmentId,
              queue: next.run.queue,
              ...(next.run.concurrencyKey ? { concurrencyKey: next.run.concurrencyKey } : {}),
              priority: next.run.priority,
              ...(next.run.queuedAt ? { availableAt: next.run.queuedAt.getTime() } : {}),
            });
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
          },
        },
      );
      return "queued-to-resume";
    });
  }
}
