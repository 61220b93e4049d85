import type { Worker } from "bullmq";
import pino from "pino";
import { createTestDatabase, createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from "@runengine/testing";
import { createEngine, type EngineHandle } from "../../createEngine.ts";
import type { AuthenticatedEnvironment } from "../../environments/apiKeys.ts";
import { createFinalizerWorker } from "../../jobs/finalizerWorker.ts";
import { createSchedulerWorker } from "../../jobs/schedulerWorker.ts";
import { triggerOptionsSchema, type TriggerOptionsInput } from "../../schemas/trigger.ts";
import type { TriggerResult } from "../triggerSystem.ts";
import type { RegisterWorkerRequest } from "../workerSystem.ts";
import type { EngineSettings } from "../resources.ts";

export interface EngineFixture {
  handle: EngineHandle;
  db: TestDatabase;
  environment: AuthenticatedEnvironment;
  finalizer: Worker;
  registerWorker(tasks?: RegisterWorkerRequest["tasks"], version?: string): Promise<{ workerId: string; deploymentId: string }>;
  /** A scheduler worker (delayed runs, TTL, timed waits) on this engine, closed with the fixture. */
  startScheduler(): Worker;
  /** Triggers task "hello" with options as a request carries them (durations in ms or strings). */
  trigger(options?: TriggerOptionsInput, payload?: unknown): Promise<TriggerResult>;
  close(): Promise<void>;
}

export const fastRetry = { maxAttempts: 3, factor: 2, minTimeoutInMs: 300, maxTimeoutInMs: 5_000, randomize: false };

/** A real engine on a database and Redis prefix of its own, with a finalizer consuming its jobs. */
export async function startEngine(label: string, settings: Partial<EngineSettings> = {}): Promise<EngineFixture> {
  const db = await createTestDatabase(label);
  const keyPrefix = uniqueRedisPrefix(label);
  const handle = createEngine({ databaseUrl: db.url, redisUrl: testRedisUrl, keyPrefix, logger: pino({ level: "silent" }), settings });
  const { environment } = await handle.engine.createEnvironment({ name: "test" });
  const finalizer = createFinalizerWorker(handle.engine, { ...handle.jobQueuesOptions(), concurrency: 10 });
  const schedulers: Worker[] = [];
  return {
    handle,
    db,
    environment,
    finalizer,
    registerWorker: (tasks = [{ id: "hello", queue: { name: "hello" }, retry: fastRetry }], version = "v1") =>
      handle.engine.registerWorker(environment, { version, name: `worker-${version}`, concurrency: 10, tasks }),
    startScheduler() {
      const scheduler = createSchedulerWorker(handle.engine, handle.jobQueuesOptions());
      schedulers.push(scheduler);
      return scheduler;
    },
    trigger: (options = {}, payload = 1) =>
      handle.engine.trigger({ environment, taskId: "hello", payload, options: triggerOptionsSchema.parse(options) }),
    async close() {
      for (const scheduler of schedulers) await scheduler.close();
      await finalizer.close();
      await handle.close();
      const redis = createTestRedis();
      await deleteKeysWithPrefix(redis, keyPrefix);
      redis.disconnect();
      await db.drop();
    },
  };
}
