import { createHash } from "node:crypto";
import { Prisma, sqlPool, type ExecutionSnapshot, type PrismaClient, type TaskRun } from "@runengine/database";
import { rowSeparator, splitRow } from "./runRows.ts";
import type { RunState } from "./types.ts";

/** Our own code names the columns, never a request; still, only plain identifiers reach the SQL. */
export function assertColumnName(column: string): void {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(column)) throw new TypeError(`"${column}" is not a column name`);
}

/**
 * A row's column values for jsonb_populate_record(set): Prisma's JSON null markers become SQL NULL.
 * Only column values are looked at, never inside them: a replacer given to JSON.stringify would be
 * called for every key of every payload.
 */
export function sqlRecord(row: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const column of Object.keys(row)) {
    const value = row[column];
    if (value === Prisma.JsonNull || value === Prisma.DbNull) (copy ??= { ...row })[column] = null;
  }
  return copy ?? row;
}

/**
 * Many runs and their first snapshots in one statement, without a transaction around it: two
 * INSERTs in data-modifying CTEs, the rows of each as a single JSON array that Postgres turns into
 * typed records (jsonb_populate_recordset), so enums, arrays, timestamps and jsonb columns take
 * their own input format. Columns no row names keep their defaults; a value of Prisma.JsonNull is
 * stored as SQL NULL. The snapshots' foreign key is checked at the end of the statement, when the
 * runs exist.
 */
export async function insertRunsWithSnapshots(prisma: PrismaClient, runs: readonly Record<string, unknown>[], snapshots: readonly Record<string, unknown>[]): Promise<void> {
  const runList = columnList(runs);
  const snapshotList = columnList(snapshots);
  await sqlPool(prisma).query({
    // one prepared statement per column set, as a batch's options decide which columns it sets
    name: `re_insert_runs_${createHash("sha1").update(`${runList}|${snapshotList}`).digest("hex").slice(0, 16)}`,
    text: `WITH runs AS (
             INSERT INTO "TaskRun" (${runList}) SELECT ${runList} FROM jsonb_populate_recordset(NULL::"TaskRun", $1::jsonb))
           INSERT INTO "ExecutionSnapshot" (${snapshotList}) SELECT ${snapshotList} FROM jsonb_populate_recordset(NULL::"ExecutionSnapshot", $2::jsonb)`,
    values: [JSON.stringify(runs.map(sqlRecord)), JSON.stringify(snapshots.map(sqlRecord))],
  });
}

function columnList(rows: readonly Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  columns.forEach(assertColumnName);
  return columns.map((column) => `"${column}"`).join(", ");
}

/**
 * One run and its first snapshot, in one statement (two INSERTs in data-modifying CTEs; the
 * snapshot's foreign key is checked at the end of the statement, when the run row exists).
 * Columns a row leaves undefined keep their defaults. Throws the driver's unique violation
 * (see isUniqueViolation) when the run's id or idempotency key is taken.
 */
export async function insertRunWithSnapshot(prisma: PrismaClient, run: Record<string, unknown>, snapshot: Record<string, unknown>): Promise<RunState> {
  const runColumns = definedColumns(run);
  const snapshotColumns = definedColumns(snapshot);
  const runList = runColumns.map((column) => `"${column}"`).join(", ");
  const snapshotList = snapshotColumns.map((column) => `"${column}"`).join(", ");
  const result = await sqlPool(prisma).query({
    // a trigger's options decide which columns it sets: one prepared statement per column set
    name: `re_insert_run_${createHash("sha1").update(`${runList}|${snapshotList}`).digest("hex").slice(0, 16)}`,
    text: `WITH run AS (
             INSERT INTO "TaskRun" (${runList}) SELECT ${runList} FROM jsonb_populate_record(NULL::"TaskRun", $1::jsonb) RETURNING *),
           snapshot AS (
             INSERT INTO "ExecutionSnapshot" (${snapshotList}) SELECT ${snapshotList} FROM jsonb_populate_record(NULL::"ExecutionSnapshot", $2::jsonb) RETURNING *)
           SELECT run.*, NULL AS "${rowSeparator}", snapshot.* FROM run, snapshot`,
    values: [JSON.stringify(sqlRecord(run)), JSON.stringify(sqlRecord(snapshot))],
    rowMode: "array",
  });
  const [created, first] = splitRow<TaskRun, ExecutionSnapshot>(result, result.rows[0] as unknown[]);
  return { run: created, snapshot: first };
}

function definedColumns(row: Record<string, unknown>): string[] {
  const columns = Object.keys(row).filter((column) => row[column] !== undefined);
  columns.forEach(assertColumnName);
  return columns;
}
