import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { createPrismaClient, defaultMigrationsDir, migrate, type PrismaClient } from "@runengine/database";

/** Server to create test databases on; its database name is ignored. */
export const testServerUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

function databaseUrl(name: string): string {
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  url.search = "";
  return url.toString();
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl("postgres") });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(defaultMigrationsDir).sort()) {
    hash.update(name);
    hash.update(readFileSync(join(defaultMigrationsDir, name, "migration.sql")));
  }
  return hash.digest("hex").slice(0, 12);
}

/**
 * A database migrated once per set of migrations, copied for every test database. Built under a
 * temporary name and renamed, so parallel test files never see a half-migrated template.
 */
async function ensureTemplate(): Promise<string> {
  const template = `runengine_template_${migrationsHash()}`;
  return withAdmin(async (admin) => {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [template]);
    if (exists.rowCount) return template;
    const building = `${template}_${randomBytes(4).toString("hex")}`;
    await admin.query(`CREATE DATABASE "${building}"`);
    await migrate({ databaseUrl: databaseUrl(building) });
    try {
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
    } catch {
      await admin.query(`DROP DATABASE IF EXISTS "${building}"`);
    }
    return template;
  });
}

export interface TestDatabase {
  name: string;
  url: string;
  prisma: PrismaClient;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own: tests in parallel files never share rows. */
export async function createTestDatabase(label = "test"): Promise<TestDatabase> {
  const template = await ensureTemplate();
  const safeLabel = label.toLowerCase().replace(/[^a-z0-9]+/g, "_").slice(0, 30);
  const name = `t_${safeLabel}_${randomBytes(4).toString("hex")}`;
  await withAdmin(async (admin) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        return;
      } catch (error) {
        // Postgres refuses to copy a template while another session is connected to it.
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  const url = databaseUrl(name);
  const prisma = createPrismaClient({ databaseUrl: url, poolSize: 5 });
  return {
    name,
    url,
    prisma,
    async drop() {
      await prisma.$disconnect();
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}
