import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { defaultMigrationsDir, migrate, MigrationChecksumError } from "../migrate.ts";
import { createEmptyDatabase } from "./pgServer.ts";

const run = promisify(execFile);
const cliPath = new URL("../migrateCli.ts", import.meta.url).pathname;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    );
    return rows.map((r) => r.tablename);
  } finally {
    await client.end();
  }
}

describe("migrate", () => {
  test("two processes migrating one fresh database at once: both succeed, each migration applied once", async () => {
    const db = await createEmptyDatabase("migrate_race");
    cleanups.push(db.drop);
    const env = { ...process.env, DATABASE_URL: db.url };
    const [first, second] = await Promise.all([
      run(process.execPath, ["--import", "tsx", cliPath], { env }),
      run(process.execPath, ["--import", "tsx", cliPath], { env }),
    ]);
    const appliedNow = [first.stdout, second.stdout].map((out) => Number(/\((\d+) applied now\)/.exec(out)?.[1]));
    // every migration of the repo, applied by exactly one of the two
    const migrationCount = readdirSync(defaultMigrationsDir).filter((name) => existsSync(join(defaultMigrationsDir, name, "migration.sql"))).length;
    expect(migrationCount).toBeGreaterThan(0);
    expect(appliedNow.sort((a, b) => a - b)).toEqual([0, migrationCount]);
    expect(await tables(db.url)).toContain("TaskRun");

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT name FROM "_runengine_migrations"`);
    await client.end();
    expect(rows).toHaveLength(migrationCount);
  }, 60_000);

  test("a migration edited after it was applied is refused", async () => {
    const db = await createEmptyDatabase("migrate_checksum");
    cleanups.push(db.drop);
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(defaultMigrationsDir, dir, { recursive: true });
    mkdirSync(join(dir, "99999999999999_extra"));
    writeFileSync(join(dir, "99999999999999_extra", "migration.sql"), "CREATE TABLE extra (id int);");
    const first = await migrate({ databaseUrl: db.url, migrationsDir: dir });
    expect(first.applied).toContain("99999999999999_extra");

    writeFileSync(join(dir, "99999999999999_extra", "migration.sql"), "CREATE TABLE extra (id bigint);");
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toBeInstanceOf(MigrationChecksumError);
  }, 60_000);

  test("a failing migration is rolled back whole and not recorded", async () => {
    const db = await createEmptyDatabase("migrate_rollback");
    cleanups.push(db.drop);
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "00000000000001_broken"));
    writeFileSync(join(dir, "00000000000001_broken", "migration.sql"), "CREATE TABLE half (id int); SELECT no_such_function();");
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(/00000000000001_broken/);
    expect(await tables(db.url)).toEqual(["_runengine_migrations"]);
  }, 60_000);
});
