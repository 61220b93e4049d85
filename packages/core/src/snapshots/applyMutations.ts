import type { ExecutionSnapshot, Prisma, PrismaClient } from "@runengine/database";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import type { MutationPlan, RunState, SnapshotWrite } from "./types.ts";

/** The snapshot insert for `write`, as Prisma create data. */
export function snapshotCreateData(write: SnapshotWrite): Prisma.ExecutionSnapshotUncheckedCreateInput {
  const { completedWaitpointIds, ...columns } = write;
  return {
    ...columns,
    completedWaitpoints: { create: completedWaitpointIds.map((waitpointId, index) => ({ index, waitpointId })) },
  };
}

/** Records a refused change: an invalid snapshot, for debugging. The run is not touched. */
export async function recordRefusal(prisma: PrismaClient, write: SnapshotWrite): Promise<ExecutionSnapshot> {
  return prisma.executionSnapshot.create({ data: snapshotCreateData(write) });
}

/**
 * Writes planned mutations (each for a different run) in ONE transaction: every run's update and
 * its new snapshot commit together or not at all. Results are in the order of `plans`.
 *
 * The run lock makes the read-then-write of each plan exclusive; this also fences it in Postgres:
 * the run rows are locked (FOR UPDATE, in id order so concurrent batches cannot deadlock) and each
 * run's newest valid snapshot must still be the one its plan was computed from. So a holder that
 * lost its lock (a long pause) cannot fork a run's history; it gets StaleSnapshotError instead.
 */
export async function applyMutations(prisma: PrismaClient, plans: readonly MutationPlan[]): Promise<RunState[]> {
  const runIds = plans.map((plan) => plan.runId);
  if (new Set(runIds).size !== runIds.length) throw new TypeError("applyMutations: at most one plan per run");

  return prisma.$transaction(async (tx) => {
    // Two statements, not one: a statement that waited for a row lock still reads with the snapshot
    // it started with, so a subquery beside the FOR UPDATE would miss the snapshot the transaction
    // it waited for just committed. Read after the lock is held, each statement sees every commit.
    await tx.$queryRaw`SELECT r.id FROM "TaskRun" r WHERE r.id = ANY(${runIds}::text[]) ORDER BY r.id FOR UPDATE`;
    const rows = await tx.$queryRaw<{ id: string; latestSnapshotId: string | null }[]>`
      SELECT r.id,
             (SELECT s.id FROM "ExecutionSnapshot" s
               WHERE s."runId" = r.id AND s."isValid"
               ORDER BY s.sequence DESC LIMIT 1) AS "latestSnapshotId"
        FROM "TaskRun" r
       WHERE r.id = ANY(${runIds}::text[])`;
    const latestByRun = new Map(rows.map((row) => [row.id, row.latestSnapshotId]));

    const results: RunState[] = [];
    for (const plan of plans) {
      if (!latestByRun.has(plan.runId)) throw new NotFoundError("TaskRun", plan.runId);
      const latestSnapshotId = latestByRun.get(plan.runId) ?? null;
      if (latestSnapshotId !== plan.basedOnSnapshotId) {
        throw new StaleSnapshotError({ runId: plan.runId, expectedSnapshotId: plan.basedOnSnapshotId, latestSnapshotId });
      }
      const run = await tx.taskRun.update({ where: { id: plan.runId }, data: plan.runUpdate });
      const snapshot = await tx.executionSnapshot.create({ data: snapshotCreateData(plan.snapshot) });
      results.push({ run, snapshot });
    }
    return results;
  });
}
