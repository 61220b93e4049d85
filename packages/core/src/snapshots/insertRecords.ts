import { createHash } from "node:crypto";
import { Prisma, sqlPool, type ExecutionSnapshot, type PrismaClient, type TaskRun } from "@runengine/database";
import { rowSeparator, splitRow } from "./runRows.ts";
import type { RunState } from "./types.ts";

/** Our own code names the columns, never a request; still, only plain identifiers reach the SQL. */
export function assertColumnName(column: string): void {
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(column)) throw new TypeError(`"${column}" is not a column name`);
}

/** Rows as JSON for jsonb_populate_record(set): Prisma's JSON null markers become SQL NULL. */
export function recordsJson(rows: unknown): string {
  return JSON.stringify(rows, (_key, value: unknown) => (value === Prisma.JsonNull || value === Prisma.DbNull ? null : value));
}

/**
 * One INSERT of many rows of `table`: the rows go as a single JSON array that Postgres turns into
 * typed records (jsonb_populate_recordset), so enums, arrays, timestamps and jsonb columns take
 * their own input format. Columns no row names keep their defaults. A value of Prisma.JsonNull is
 * stored as SQL NULL, which Prisma reads back as null too.
 */
export function insertRecords(prisma: PrismaClient, table: "TaskRun" | "ExecutionSnapshot", rows: readonly Record<string, unknown>[]) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  columns.forEach(assertColumnName);
  const list = columns.map((column) => `"${column}"`).join(", ");
  return prisma.$executeRawUnsafe(`INSERT INTO "${table}" (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::"${table}", $1::jsonb)`, recordsJson(rows));
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
    values: [recordsJson(run), recordsJson(snapshot)],
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
