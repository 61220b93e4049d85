/**
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the database from
 * the schema of the newest committed migration to the current prisma/schema.prisma.
 *
 * Commit the new migration together with the schema change it came from: the next migration diffs
 * against the schema as of that commit.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hasStatements, schemaDiffSql } from "../src/schemaDiff.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const migrationsDir = join(repoRoot, "prisma/migrations");

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: pnpm db:migration:create <snake_case_name>");
  process.exit(1);
}

function schemaOfNewestMigration(): string | undefined {
  const hasMigrations = readdirSync(migrationsDir, { withFileTypes: true }).some((e) => e.isDirectory());
  if (!hasMigrations) return undefined;
  const commit = execFileSync("git", ["log", "-1", "--format=%H", "--", "prisma/migrations"], { cwd: repoRoot })
    .toString()
    .trim();
  if (!commit) throw new Error("prisma/migrations has migrations that are not committed; commit them first");
  return execFileSync("git", ["show", `${commit}:prisma/schema.prisma`], { cwd: repoRoot }).toString();
}

const sql = schemaDiffSql({
  from: schemaOfNewestMigration(),
  to: readFileSync(join(repoRoot, "prisma/schema.prisma"), "utf8"),
  databaseUrl: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
});
if (!hasStatements(sql)) {
  console.log("schema.prisma matches the newest migration: nothing to write.");
} else {
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const dir = join(migrationsDir, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "migration.sql"), sql);
  console.log(`wrote ${dir}/migration.sql`);
}
