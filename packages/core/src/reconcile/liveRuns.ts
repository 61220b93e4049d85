import type { ExecutionStatus, PrismaClient } from "@runengine/database";
import { finalRunStatuses } from "../state-machine/transitions.ts";

/** A run's newest valid snapshot, the part reconciliation acts on. */
export interface LatestSnapshotRow {
  runId: string;
  snapshotId: string;
  environmentId: string;
  executionStatus: ExecutionStatus;
  workerId: string | null;
}

/** A run that is not final, with what the run queue needs to hold it again. */
export interface LiveRunRow extends LatestSnapshotRow {
  organizationId: string;
  queue: string;
  concurrencyKey: string | null;
  priority: number;
  attemptNumber: number;
  /** when a DELAYED run becomes due */
  delayUntil: Date | null;
}

/** The newest valid snapshot of each run id that exists, in one query (runs that do not exist are absent). */
export async function latestSnapshotsOf(prisma: PrismaClient, runIds: readonly string[]): Promise<Map<string, LatestSnapshotRow>> {
  if (runIds.length === 0) return new Map();
  const rows = await prisma.$queryRaw<LatestSnapshotRow[]>`
    SELECT DISTINCT ON ("runId") "runId", "id" AS "snapshotId", "environmentId", "executionStatus", "workerId"
    FROM "ExecutionSnapshot"
    WHERE "runId" = ANY(${[...runIds]}::text[]) AND "isValid"
    ORDER BY "runId", "sequence" DESC`;
  return new Map(rows.map((row) => [row.runId, row]));
}

/**
 * A page of runs that are not final (newest snapshot not FINISHED), ordered by id after `afterId`,
 * each with its newest snapshot. Rebuilding walks these pages, so the whole table is never held in
 * memory. CANCELED runs are read too: users see a run as CANCELED from PENDING_CANCEL on, while
 * its worker still holds it.
 */
export async function pageOfLiveRuns(prisma: PrismaClient, options: { afterId: string; limit: number }): Promise<LiveRunRow[]> {
  const finalExceptCanceled = finalRunStatuses.filter((status) => status !== "CANCELED");
  return prisma.$queryRaw<LiveRunRow[]>`
    SELECT r."id" AS "runId", r."organizationId", r."environmentId", r."queue", r."concurrencyKey", r."priority",
           r."attemptNumber", r."delayUntil", s."id" AS "snapshotId", s."executionStatus", s."workerId"
    FROM "TaskRun" r
    JOIN LATERAL (
      SELECT "id", "executionStatus", "workerId" FROM "ExecutionSnapshot"
      WHERE "runId" = r."id" AND "isValid" ORDER BY "sequence" DESC LIMIT 1
    ) s ON true
    WHERE r."id" > ${options.afterId}
      AND r."status"::text <> ALL(${finalExceptCanceled}::text[])
      AND s."executionStatus" <> 'FINISHED'
    ORDER BY r."id"
    LIMIT ${options.limit}`;
}
