import { randomBytes } from "node:crypto";
import { Prisma, type PrismaClient } from "@runengine/database";

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

/** Snapshot ids of runs created in bulk (Prisma generates the others); unique like a cuid. */
export function newSnapshotId(): string {
  return `snap_${Date.now().toString(36)}${randomBytes(8).toString("hex")}`;
}
