import { sqlPool, type ExecutionSnapshot } from "@runengine/database";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import type { RunState } from "../snapshots/types.ts";
import { newEdgeIds } from "../systems/ids.ts";
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
  async block(
    runId: string,
    report: { workerId: string; snapshotId: string },
    waitpoints: readonly BlockingWaitpoint[],
    description: string,
  ): Promise<{ state: RunState; outcome: ContinueOutcome }> {
    const { snapshots, locker } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (latest.id !== report.snapshotId || latest.executionStatus !== "EXECUTING" || latest.workerId !== report.workerId) {
        throw new StaleSnapshotError({ runId, expectedSnapshotId: report.snapshotId, latestSnapshotId: latest.id });
      }
      await replaceEdges(this.resources, runId, waitpoints);
      const state = await snapshots.mutate(
        runId,
        { expectedSnapshotId: latest.id, executionStatus: "EXECUTING_WITH_WAITPOINTS", runStatus: "EXECUTING", description },
        { latest, afterCommit: (next) => trackHeartbeat(this.resources, next) },
      );
      return { state, outcome: await this.continueIfUnblocked(runId, state.snapshot) };
    });
  }

  /**
   * Handler of `continueRunIfUnblocked`: when every waitpoint blocking the run is complete, a run
   * still on its worker continues there (EXECUTING, with the completed waitpoints on the snapshot);
   * a suspended run is queued again (QUEUED, same checkpoint) to be restored by a worker. Anything
   * else (not waiting, still blocked, already continued) is left alone. `known` is the run's newest
   * snapshot when the caller, holding the run's lock, has just written it.
   */
  async continueIfUnblocked(runId: string, known?: ExecutionSnapshot): Promise<ContinueOutcome> {
    const { snapshots, locker, runQueue } = this.resources;
    return locker.lock(runId, async () => {
      const latest = known ?? (await snapshots.latestSnapshot(runId));
      if (!latest || (latest.executionStatus !== "EXECUTING_WITH_WAITPOINTS" && latest.executionStatus !== "SUSPENDED")) return "not-waiting";
      const edges = await edgesOf(this.resources, runId);
      if (edges.some((edge) => edge.status !== "COMPLETED")) return "blocked";
      const completedWaitpointIds = edges.map((edge) => edge.waitpointId);
      const waits = `${edges.length} waitpoint${edges.length === 1 ? "" : "s"} completed`;
      const deleteEdges = () => deleteEdgesOf(this.resources, runId);

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
            latest,
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
          latest,
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

/**
 * The run's edges become exactly `waitpoints`: edges left by an earlier attempt (it failed or was
 * cancelled mid-wait) must not block this one. Two statements: a DELETE and an INSERT of the same
 * keys in one statement would run in no defined order.
 */
async function replaceEdges(resources: EngineResources, runId: string, waitpoints: readonly BlockingWaitpoint[]): Promise<void> {
  await deleteEdgesOf(resources, runId);
  const ids = newEdgeIds(waitpoints.length);
  await sqlPool(resources.prisma).query({
    name: "re_insert_edges",
    text: `INSERT INTO "TaskRunWaitpoint" ("id", "runId", "waitpointId", "batchIndex")
           SELECT e.id, $1, e."waitpointId", e."batchIndex"
             FROM jsonb_to_recordset($2::jsonb) AS e(id text, "waitpointId" text, "batchIndex" int)`,
    values: [runId, JSON.stringify(waitpoints.map((w, i) => ({ id: ids[i], waitpointId: w.waitpointId, batchIndex: w.batchIndex ?? null })))],
  });
}

async function deleteEdgesOf(resources: EngineResources, runId: string): Promise<void> {
  await sqlPool(resources.prisma).query({ name: "re_delete_edges", text: `DELETE FROM "TaskRunWaitpoint" WHERE "runId" = $1`, values: [runId] });
}

/** The run's edges with their waitpoints' status, in result order (batch index, then as inserted). */
async function edgesOf(resources: EngineResources, runId: string): Promise<{ waitpointId: string; status: string }[]> {
  const { rows } = await sqlPool(resources.prisma).query<{ waitpointId: string; status: string }>({
    name: "re_edges_of_run",
    text: `SELECT e."waitpointId", w.status FROM "TaskRunWaitpoint" e JOIN "Waitpoint" w ON w.id = e."waitpointId"
            WHERE e."runId" = $1 ORDER BY e."batchIndex" ASC NULLS LAST, e.id ASC`,
    values: [runId],
  });
  return rows;
}
