import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createClient } from "@runengine/sdk";
import {
  createEnvironmentThroughApi,
  createTestDatabase,
  deleteKeysWithPrefix,
  spawnWorkerProcess,
  startEngineProcesses,
  waitForRegistration,
  testRedisUrl,
  uniqueRedisPrefix,
  type EngineProcesses,
  type ManagedProcess,
  type TestDatabase,
} from "@runengine/testing";
import type { Cleanup } from "./cleanup.ts";

export const benchTasksFile = fileURLToPath(new URL("../e2eTasks.ts", import.meta.url));

/** TaskRunStatus values that end a run (packages/sdk's finalRunStatuses). */
const FINAL = `('COMPLETED_SUCCESSFULLY','COMPLETED_WITH_ERRORS','CANCELED','SYSTEM_FAILURE','CRASHED','EXPIRED','TIMED_OUT')`;

export interface BenchEngine {
  db: TestDatabase;
  engine: EngineProcesses;
  prefix: string;
  apiKey: string;
  client: ReturnType<typeof createClient>;
  workers: ManagedProcess[];
}

/**
 * The engine as a user deploys it (api, dispatcher, finalizer, heartbeat-monitor, one process
 * each) on a database and Redis prefix of its own, an environment registered through the admin
 * route, and `runengine-worker` processes running bench/e2eTasks.ts. Every resource is registered
 * with `cleanup` as soon as it exists, so a failure half way still removes it.
 */
export async function startBenchEngine(
  cleanup: Cleanup,
  opts: { label: string; workers: number; concurrency: number; logLevel: string },
): Promise<BenchEngine> {
  const db = await createTestDatabase(opts.label);
  cleanup.add(`drop database ${db.name}`, () => db.drop());
  const prefix = uniqueRedisPrefix(opts.label);
  cleanup.add(`delete keys ${prefix}*`, async () => {
    const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 3 });
    try {
      await deleteKeysWithPrefix(redis, prefix);
    } finally {
      redis.disconnect();
    }
  });
  // Registered before the start so processes already spawned are stopped if a later one fails.
  let engine: EngineProcesses | undefined;
  cleanup.add("stop engine processes", async () => engine?.stop());
  engine = await startEngineProcesses({
    label: opts.label,
    databaseUrl: db.url,
    keyPrefix: prefix,
    env: { LOG_LEVEL: opts.logLevel },
  });

  const { apiKey } = await createEnvironmentThroughApi(engine, "bench");

  const workers: ManagedProcess[] = [];
  cleanup.add("stop workers", () =>
    Promise.all(
      workers.map(async (w) => {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
        await w.exited;
      }),
    ),
  );
  for (let i = 0; i < opts.workers; i++) {
    const name = `worker-${i}`;
    workers.push(
      spawnWorkerProcess({
        name: `${opts.label}-${name}`,
        apiUrl: engine.apiUrl,
        apiKey,
        tasksFile: benchTasksFile,
        concurrency: opts.concurrency,
        version: "bench-1",
      }),
    );
  }
  // Started together, waited for together: each loads tsx and the SDK, a few seconds on 2 cores.
  for (const w of workers) await waitForRegistration(w);
  const client = createClient({ apiUrl: engine.apiUrl, apiKey });
  return { db, engine, prefix, apiKey, client, workers };
}

/**
 * Runs in a final state, split by outcome. One count(*) on the bench's own database: it costs
 * the api nothing, unlike paging through `GET /api/v1/runs`.
 */
export async function countFinalRuns(db: TestDatabase): Promise<{ final: number; succeeded: number }> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ final: bigint; succeeded: bigint }>>(
    `SELECT count(*) AS final, count(*) FILTER (WHERE status = 'COMPLETED_SUCCESSFULLY') AS succeeded
       FROM "TaskRun" WHERE status IN ${FINAL}`,
  );
  return { final: Number(rows[0]!.final), succeeded: Number(rows[0]!.succeeded) };
}

export async function runStatus(db: TestDatabase, runId: string): Promise<string | undefined> {
  const rows = await db.prisma.$queryRawUnsafe<Array<{ status: string }>>(`SELECT status::text FROM "TaskRun" WHERE id = $1`, runId);
  return rows[0]?.status;
}

export interface RunTimeline {
  runId: string;
  /** TaskRun.createdAt, startedAt, completedAt (epoch ms; Postgres stores milliseconds) */
  createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  /** valid snapshots, oldest first */
  snapshots: Array<{ status: string; description: string; at: number }>;
}

/** Each run's timestamps and its valid execution snapshots, in the order the engine wrote them. */
export async function runTimelines(db: TestDatabase, runIds: readonly string[]): Promise<RunTimeline[]> {
  const runs = await db.prisma.$queryRawUnsafe<Array<{ id: string; c: number; s: number | null; f: number | null }>>(
    `SELECT id,
            (extract(epoch FROM "createdAt") * 1000)::float8 AS c,
            (extract(epoch FROM "startedAt") * 1000)::float8 AS s,
            (extract(epoch FROM "completedAt") * 1000)::float8 AS f
       FROM "TaskRun" WHERE id = ANY($1::text[])`,
    runIds,
  );
  const snaps = await db.prisma.$queryRawUnsafe<Array<{ runId: string; st: string; d: string; at: number }>>(
    `SELECT "runId", "executionStatus"::text AS st, description AS d, (extract(epoch FROM "createdAt") * 1000)::float8 AS at
       FROM "ExecutionSnapshot" WHERE "runId" = ANY($1::text[]) AND "isValid" ORDER BY "runId", sequence`,
    runIds,
  );
  const byRun = new Map<string, RunTimeline>();
  for (const r of runs) byRun.set(r.id, { runId: r.id, createdAt: r.c, startedAt: r.s, completedAt: r.f, snapshots: [] });
  for (const s of snaps) byRun.get(s.runId)?.snapshots.push({ status: s.st, description: s.d, at: s.at });
  return [...byRun.values()];
}
