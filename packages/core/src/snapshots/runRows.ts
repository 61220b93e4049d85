import { sqlPool, type ExecutionSnapshot, type PrismaClient, type SqlPool, type SqlResult, type TaskRun } from "@runengine/database";
import { CallBatcher } from "../utils/callBatcher.ts";

/**
 * The reads every step of a run makes, by hand-written SQL on the pool under Prisma (see sqlPool),
 * in the types Prisma returns for the same rows. The run row names its newest valid snapshot
 * (`latestSnapshotId`), so the snapshot is found by its key, not by sorting the history.
 */

/** The run's newest valid snapshot, or null when the run does not exist. */
export async function latestSnapshotRow(prisma: PrismaClient, runId: string): Promise<ExecutionSnapshot | null> {
  return loadersOf(prisma).latestSnapshot.call(runId);
}

/** The run's row, or null when it does not exist. */
export async function runRow(prisma: PrismaClient, runId: string): Promise<TaskRun | null> {
  const result = await sqlPool(prisma).query<TaskRun>({
    name: "re_run_row",
    text: `SELECT * FROM "TaskRun" WHERE id = $1`,
    values: [runId],
  });
  return result.rows[0] ?? null;
}

/** The run's row and its newest valid snapshot in one round trip, or null when it does not exist. */
export async function runWithLatestSnapshot(prisma: PrismaClient, runId: string): Promise<RunWithLatestSnapshot | null> {
  return loadersOf(prisma).runWithLatestSnapshot.call(runId);
}

type RunWithLatestSnapshot = { run: TaskRun; latest: ExecutionSnapshot };

/**
 * Every step of every run starts with one of these two reads, under the run's lock. Reads made
 * while earlier ones are running go out together as one statement (see CallBatcher): a busy
 * process reads many runs per round trip. A read still starts after its caller took the lock,
 * so it sees every change committed before.
 */
interface RowLoaders {
  latestSnapshot: CallBatcher<string, ExecutionSnapshot | null>;
  runWithLatestSnapshot: CallBatcher<string, RunWithLatestSnapshot | null>;
}

const loadersOfPools = new WeakMap<SqlPool, RowLoaders>();
const readBatching = { maxInFlight: 2, maxBatch: 200 };

function loadersOf(prisma: PrismaClient): RowLoaders {
  const pool = sqlPool(prisma);
  let loaders = loadersOfPools.get(pool);
  if (loaders === undefined) {
    loaders = {
      latestSnapshot: new CallBatcher(async (calls) => {
        const result = await pool.query<ExecutionSnapshot>({
          name: "re_latest_snapshots",
          text: `SELECT s.* FROM "TaskRun" r JOIN "ExecutionSnapshot" s ON s.id = r."latestSnapshotId" WHERE r.id = ANY($1::text[])`,
          values: [distinctInputs(calls)],
        });
        const byRun = new Map(result.rows.map((row) => [row.runId, row]));
        for (const call of calls) call.resolve(byRun.get(call.input) ?? null);
      }, readBatching),
      runWithLatestSnapshot: new CallBatcher(async (calls) => {
        const result = await pool.query({
          name: "re_runs_with_latest_snapshot",
          text: `SELECT r.*, NULL AS "${rowSeparator}", s.*
                   FROM "TaskRun" r JOIN "ExecutionSnapshot" s ON s.id = r."latestSnapshotId"
                  WHERE r.id = ANY($1::text[])`,
          values: [distinctInputs(calls)],
          rowMode: "array",
        });
        const byRun = new Map<string, RunWithLatestSnapshot>();
        for (const row of result.rows as unknown[][]) {
          const [run, latest] = splitRow<TaskRun, ExecutionSnapshot>(result, row);
          byRun.set(run.id, { run, latest });
        }
        for (const call of calls) call.resolve(byRun.get(call.input) ?? null);
      }, readBatching),
    };
    loadersOfPools.set(pool, loaders);
  }
  return loaders;
}

function distinctInputs(calls: readonly { input: string }[]): string[] {
  return [...new Set(calls.map((call) => call.input))];
}

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
