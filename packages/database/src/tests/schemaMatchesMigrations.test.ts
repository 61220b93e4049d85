import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, expect, test } from "vitest";
import { migrate } from "../migrate.ts";
import { schemaDiffSql } from "../schemaDiff.ts";
import { createEmptyDatabase } from "./pgServer.ts";

const schemaPath = new URL("../../../../prisma/schema.prisma", import.meta.url);
const schemaExtrasPath = new URL("../../../../prisma/schema-extras.sql", import.meta.url);
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
      const table = /^CREATE TABLE ([^\s]+) \(\n([\s\S]*)\n\)(\nWITH \(.*\))?$/.exec(statement);
      if (!table) return statement;
      const columns = topLevelItems(table[2]!).sort();
      return `CREATE TABLE ${table[1]} (${columns.join(", ")})${table[3]?.replace("\n", " ") ?? ""}`;
    })
    .sort();
}

/** A table body's column definitions: split at the commas outside parentheses (a generated column's expression spans lines). */
function topLevelItems(body: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of body) {
    if (char === "," && depth === 0) {
      items.push(current);
      current = "";
      continue;
    }
    if (char === "(") depth++;
    if (char === ")") depth--;
    current += char;
  }
  items.push(current);
  return items.map((item) => item.replace(/\s+/g, " ").trim());
}

test("prisma/schema.prisma with prisma/schema-extras.sql and prisma/migrations describe the same database", async () => {
  const fromMigrations = await createEmptyDatabase("schema_migrations");
  const fromSchema = await createEmptyDatabase("schema_direct");
  cleanups.push(fromMigrations.drop, fromSchema.drop);

  await migrate({ databaseUrl: fromMigrations.url });
  const sql = schemaDiffSql({ from: undefined, to: readFileSync(schemaPath, "utf8"), databaseUrl: fromSchema.url });
  const client = new pg.Client({ connectionString: fromSchema.url });
  await client.connect();
  await client.query(sql);
  await client.query(readFileSync(schemaExtrasPath, "utf8"));
  await client.end();

  const expected = normalizedSchema(fromSchema.url);
  expect(expected.some((s) => s.startsWith('CREATE TABLE public."TaskRun"'))).toBe(true);
  expect(normalizedSchema(fromMigrations.url)).toEqual(expected);
}, 120_000);
