import { Redis } from "ioredis";
import { RunQueue } from "@runengine/run-queue";
import { createClient } from "@runengine/sdk";
import {
  createEnvironmentThroughApi,
  createTestDatabase,
  deleteKeysWithPrefix,
  spawnWorkerProcess,
  startEngineProcesses,
  testRedisUrl,
  uniqueRedisPrefix,
  waitForRegistration,
  type EngineProcesses,
  type EngineProcessesOptions,
  type ManagedProcess,
  type TestDatabase,
} from "@runengine/testing";

const fixtureTasks = new URL("../fixtures/tasks.ts", import.meta.url).pathname;

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The real processes of the engine (api, dispatcher, finalizer, heartbeat-monitor, scheduler) on a database and
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

  /** `options.database`: a database to use instead of a fresh one on the shared server. */
  static async start(
    label: string,
    env: NodeJS.ProcessEnv = {},
    options: Pick<EngineProcessesOptions, "replicas"> & { database?: TestDatabase } = {},
  ): Promise<E2EEngine> {
    const db = options.database ?? (await createTestDatabase(label));
    const prefix = uniqueRedisPrefix(label);
    const engine = await startEngineProcesses({ label, databaseUrl: db.url, keyPrefix: prefix, env, ...(options.replicas ? { replicas: options.replicas } : {}) });
    const environment = await createEnvironmentThroughApi(engine, "e2e");
    return new E2EEngine(label, db, engine, prefix, environment);
  }

  createEnvironment(name: string, options: { concurrencyLimit?: number } = {}) {
    return createEnvironmentThroughApi(this.engine, name, options);
  }

  /**
   * A `runengine-worker` process, once it has registered: test/fixtures/tasks.ts unless `tasksFile`
   * names another fixture file, as version "e2e-1" unless told otherwise.
   */
  async startWorker(
    name: string,
    concurrency = 10,
    /** `apiKey`: another environment's, for a worker of that environment */
    options: { tasksFile?: string; version?: string; env?: NodeJS.ProcessEnv; registrationTimeoutMs?: number; apiKey?: string } = {},
  ): Promise<ManagedProcess> {
    const worker = spawnWorkerProcess({
      name: `${this.label}-${name}`,
      apiUrl: this.engine.apiUrl,
      apiKey: options.apiKey ?? this.environment.apiKey,
      tasksFile: options.tasksFile ? new URL(`../fixtures/${options.tasksFile}`, import.meta.url).pathname : fixtureTasks,
      concurrency,
      version: options.version ?? "e2e-1",
      env: { E2E_PREFIX: this.prefix, E2E_REDIS_URL: testRedisUrl, ...options.env },
    });
    this.workers.push(worker);
    await waitForRegistration(worker, options.registrationTimeoutMs);
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
