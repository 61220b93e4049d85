import { execFile } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { createPrismaClient, migrate } from "@runengine/database";
import { freePort } from "./processes.ts";
import type { TestDatabase } from "./testDatabase.ts";

const run = promisify(execFile);
const binDir = process.env.POSTGRES_BIN_DIR ?? "/usr/lib/postgresql/15/bin";

export interface LocalPostgres {
  /** a migrated database on this server; its drop() only disconnects (destroy() removes everything) */
  database: TestDatabase;
  /** stops the server (fast: open connections are cut), then starts it again on the same port */
  restart(): Promise<void>;
  /** stops the server and deletes its files */
  destroy(): Promise<void>;
}

/**
 * A PostgreSQL server of the test's own (initdb into a temporary folder, its own loopback port),
 * for tests that stop or restart Postgres without disturbing the shared one. PostgreSQL refuses to
 * run as root, so as root the server runs as the `postgres` user.
 */
export async function startLocalPostgres(label: string): Promise<LocalPostgres> {
  const dir = mkdtempSync(join(tmpdir(), `runengine-pg-${label}-`));
  const dataDir = join(dir, "data");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chmodSync(dir, 0o700);
  }
  const pgCommand = async (tool: string, args: string[]) => {
    const command = join(binDir, tool);
    if (!asRoot) return run(command, args);
    const quoted = [command, ...args].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(" ");
    return run("su", ["postgres", "-s", "/bin/sh", "-c", quoted]);
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => pgCommand("pg_ctl", ["-D", dataDir, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
  await pgCommand("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
  await start();

  const serverUrl = `postgresql://postgres@127.0.0.1:${port}`;
  const admin = new pg.Client({ connectionString: `${serverUrl}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE runengine`);
  await admin.end();
  const databaseUrl = `${serverUrl}/runengine`;
  await migrate({ databaseUrl });

  const prisma = createPrismaClient({ databaseUrl, poolSize: 4 });
  return {
    database: { name: "runengine", url: databaseUrl, prisma, drop: () => prisma.$disconnect() },
    async restart() {
      await pgCommand("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
      await start();
    },
    async destroy() {
      await pgCommand("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
