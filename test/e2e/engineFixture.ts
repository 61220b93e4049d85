import { Redis } from "ioredis";
import { RunQueue } from "@runengine/run-queue";
import { createClient } from "@runengine/sdk";
import {
  createTestDatabase,
  deleteKeysWithPrefix,
  startEngineProcesses,
  startNodeProcess,
  testRedisUrl,
  uniqueRedisPrefix,
  type EngineProcesses,
  type ManagedProcess,
  type TestDatabase,
} from "@runengine/testing";

const workerBin = new URL("../../packages/sdk/src/bin/runengineWorker.ts", import.meta.url).pathname;
const fixtureTasks = new URL("../fixtures/tasks.ts", import.meta.url).pathname;

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The real processes of the engine (api, dispatcher, finalizer, heartbeat-monitor) on a database and
 * Redis prefix of their own, an environment to act in, and worker processes the tests start.
 */
export class E2EEngine {
  readonly workers: ManagedProcess[] = [];
  /** what the fixture tasks observe (and raw run-queue state) */
  readonly redis = new Redis(testRedisUrl);
  readonly runQueue: RunQueue;
  readonly client: ReturnType<typeof createClient>;

  private constructor(
    readonly label: string,
    readonly db: TestDatabase,
    readonly engine: EngineProcesses,
    readonly prefix: string,
    readonly environment: { id: string; apiKey: string },
  ) {
    this.runQueue = new RunQueue({ redis: this.redis, keyPrefix: `${prefix}rq:` });
    this.client = createClient({ apiUrl: engine.apiUrl, apiKey: environment.apiKey });
  }

  static async start(label: string, env: NodeJS.ProcessEnv = {}): Promise<E2EEngine> {
    const db = await createTestDatabase(label);
    const prefix = uniqueRedisPrefix(label);
    const engine = await startEngineProcesses({ label, databaseUrl: db.url, keyPrefix: prefix, env });
    const environment = await createEnvironment(engine, "e2e");
    return new E2EEngine(label, db, engine, prefix, environment);
  }

  createEnvironment(name: string) {
    return createEnvironment(this.engine, name);
  }

  /** A `runengine-worker` process running test/fixtures/tasks.ts, once it has registered. */
  async startWorker(name: string, concurrency = 10): Promise<ManagedProcess> {
    const worker = startNodeProcess(`${this.label}-${name}`, workerBin, [fixtureTasks], {
      RUNENGINE_API_URL: this.engine.apiUrl,
      RUNENGINE_API_KEY: this.environment.apiKey,
      RUNENGINE_WORKER_CONCURRENCY: String(concurrency),
      RUNENGINE_WORKER_NAME: name,
      RUNENGINE_WORKER_VERSION: "e2e-1",
      E2E_PREFIX: this.prefix,
      E2E_REDIS_URL: testRedisUrl,
    });
    this.workers.push(worker);
    await waitFor(() => worker.output().includes("worker:registered") || worker.child.exitCode !== null, 30_000);
    if (worker.child.exitCode !== null) throw new Error(`worker ${name} exited:\n${worker.output()}`);
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(async (worker) => {
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill("SIGTERM");
        await worker.exited;
      }),
    );
    await this.engine.stop();
    await this.runQueue.close();
    await deleteKeysWithPrefix(this.redis, this.prefix);
    this.redis.disconnect();
    await this.db.drop();
  }
}

async function createEnvironment(engine: EngineProcesses, name: string): Promise<{ id: string; apiKey: string }> {
  const res = await fetch(`${engine.apiUrl}/api/v1/environments`, {
    method: "POST",
    headers: { authorization: `Bearer ${engine.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`creating environment ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; apiKey: string };
}
