import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { migrate } from "../migrate.ts";
import { schemaDiffSql } from "../schemaDiff.ts";
import { createEmptyDatabase } from "./pgServer.ts";

const schemaPath = new URL("../../../../prisma/schema.prisma", import.meta.url);
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/**
 * pg_dump --schema-only, reduced to a sorted list of statements. Column order inside a table is
 * sorted too: a column added by a later migration lands last, which is the same table.
 */
function normalizedSchema(url: string): string[] {
  const dump = execFileSync("pg_dump", ["--schema-only", "--no-owner", "--no-privileges", "--exclude-table=_runengine_migrations", url])
    .toString()
    .split("\n")
    // \restrict lines carry a random token per dump (pg_dump security fix of 2025)
    .filter((line) => !/^(--|SET |SELECT pg_catalog|\\(un)?restrict )/.test(line))
    .join("\n");
  return dump
    .split(";\n")
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
    .map((statement) => {
      const table = /^CREATE TABLE ([^\s]+) \(\n([\s\S]*)\n\)$/.exec(statement);
      if (!table) return statement;
      const columns = table[2]!.split("\n").map((line) => line.trim().replace(/,$/, "")).sort();
      return `CREATE TABLE ${table[1]} (${columns.join(", ")})`;
    })
    .sort();
}

test("prisma/schema.prisma and prisma/migrations describe the same database", async () => {
  const fromMigrations = await createEmptyDatabase("schema_migrations");
  const fromSchema = await createEmptyDatabase("schema_direct");
  cleanups.push(fromMigrations.drop, fromSchema.drop);

  await migrate({ databaseUrl: fromMigrations.url });
  const sql = schemaDiffSql({ from: undefined, to: readFileSync(schemaPath, "utf8"), databaseUrl: fromSchema.url });
  const client = new pg.Client({ connectionString: fromSchema.url });
  await client.connect();
  await client.query(sql);
  await client.end();

  const expected = normalizedSchema(fromSchema.url);
  expect(expected.some((s) => s.startsWith('CREATE TABLE public."TaskRun"'))).toBe(true);
  expect(normalizedSchema(fromMigrations.url)).toEqual(expected);
}, 120_000);
