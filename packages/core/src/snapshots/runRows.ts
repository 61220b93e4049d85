import { sqlPool, type ExecutionSnapshot, type PrismaClient, type SqlResult, type TaskRun } from "@runengine/database";
import { keyedReader } from "../utils/keyedReader.ts";

/**
 * The reads every step of a run makes, by hand-written SQL on the pool under Prisma (see sqlPool),
 * in the types Prisma returns for the same rows. The run row names its newest valid snapshot
 * (`latestSnapshotId`), so the snapshot is found by its key, not by sorting the history.
 */

/** The run's newest valid snapshot, or null when the run does not exist. */
export async function latestSnapshotRow(prisma: PrismaClient, runId: string): Promise<ExecutionSnapshot | null> {
  return (await latestSnapshots(sqlPool(prisma)).call(runId)) ?? null;
}

const latestSnapshots = keyedReader(async (pool, runIds) => {
  const result = await pool.query<ExecutionSnapshot>({
    name: "re_latest_snapshots",
    text: `SELECT s.* FROM "TaskRun" r JOIN "ExecutionSnapshot" s ON s.id = r."latestSnapshotId" WHERE r.id = ANY($1::text[])`,
    values: [runIds],
  });
  return new Map(result.rows.map((row) => [row.runId, row]));
});

/** The run's row, or null when it does not exist. */
export async function runRow(prisma: PrismaClient, runId: string): Promise<TaskRun | null> {
  const result = await sqlPool(prisma).query<TaskRun>({
    name: "re_run_row",
    text: `SELECT * FROM "TaskRun" WHERE id = $1`,
    values: [runId],
  });
  return result.rows[0] ?? null;
}

/**
 * The run's row and its newest valid snapshot in one round trip, or null when it does not exist.
 * Read on every step, under the run's lock or while taking it (the step's write is fenced on the
 * snapshot read): concurrent reads share a statement, each still sent after its caller asked, so
 * it sees every change committed before.
 */
export async function runWithLatestSnapshot(prisma: PrismaClient, runId: string): Promise<{ run: TaskRun; latest: ExecutionSnapshot } | null> {
  return (await runsWithLatestSnapshot(sqlPool(prisma)).call(runId)) ?? null;
}

/**
 * runWithLatestSnapshot sent at once, for a step that reads while it takes the run's lock (its
 * write fenced on the snapshot read). If the lock is never taken, nobody awaits the read: its
 * failure is not left unobserved.
 */
export function readWhileLocking(prisma: PrismaClient, runId: string): Promise<{ run: TaskRun; latest: ExecutionSnapshot } | null> {
  const read = runWithLatestSnapshot(prisma, runId);
  read.catch(() => undefined);
  return read;
}

const runsWithLatestSnapshot = keyedReader(async (pool, runIds) => {
  const result = await pool.query({
    name: "re_runs_with_latest_snapshot",
    text: `SELECT r.*, NULL AS "${rowSeparator}", s.*
             FROM "TaskRun" r JOIN "ExecutionSnapshot" s ON s.id = r."latestSnapshotId"
            WHERE r.id = ANY($1::text[])`,
    values: [runIds],
    rowMode: "array",
  });
  return new Map(
    (result.rows as unknown[][]).map((row) => {
      const [run, latest] = splitRow<TaskRun, ExecutionSnapshot>(result, row);
      return [run.id, { run, latest }];
    }),
  );
});

/** The column that separates two tables' columns in one result row (see splitRow). */
export const rowSeparator = "|";

/**
 * A row of `SELECT a.*, NULL AS "|", b.*` (read in array mode, as both tables have columns of the
 * same name) as the two rows it joins.
 */
export function splitRow<A, B>(result: Pick<SqlResult, "fields">, row: readonly unknown[]): [A, B] {
  const separator = result.fields.findIndex((field) => field.name === rowSeparator);
  if (separator < 0) throw new TypeError(`splitRow: the result has no "${rowSeparator}" column`);
  const first: Record<string, unknown> = {};
  const second: Record<string, unknown> = {};
  result.fields.forEach((field, i) => {
    if (i < separator) first[field.name] = row[i];
    else if (i > separator) second[field.name] = row[i];
  });
  return [first as A, second as B];
}
