import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import pino from "pino";
import { createEngine, type AuthenticatedEnvironment, type EngineHandle, type EngineSettings, type RegisterWorkerRequest } from "@runengine/core";
import { createTestDatabase, createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from "@runengine/testing";
import { bodyEnvelopeBytes, defaultBatchBodyLimitBytes } from "../config.ts";
import { buildServer } from "../server.ts";

export const adminToken = "test-admin-token-0123456789";
export const fastRetry = { maxAttempts: 3, factor: 2, minTimeoutInMs: 300, maxTimeoutInMs: 5_000, randomize: false };
export const helloTask: RegisterWorkerRequest["tasks"][number] = { id: "hello", queue: { name: "hello" }, retry: fastRetry };

export interface ApiFixtureOptions {
  settings?: Partial<EngineSettings>;
  bodyLimitBytes?: number;
  batchBodyLimitBytes?: number;
  /** undefined: admin routes refuse every request */
  adminToken?: string | undefined;
}

export interface RequestOptions {
  /** the Bearer token; the fixture environment's key unless given (null: no Authorization header) */
  key?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiFixture {
  app: FastifyInstance;
  handle: EngineHandle;
  db: TestDatabase;
  environment: AuthenticatedEnvironment;
  apiKey: string;
  /** a second environment of the same engine, to prove neither can reach the other's runs */
  other: { environment: AuthenticatedEnvironment; apiKey: string };
  request(method: "GET" | "POST" | "PUT" | "DELETE", url: string, options?: RequestOptions): Promise<LightMyRequestResponse>;
  runCount(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The api over a real engine, on a database and Redis prefix of its own, with two environments whose
 * deployments declare the task "hello". Requests go through `app.inject` (no port).
 */
export async function startApi(label: string, options: ApiFixtureOptions = {}): Promise<ApiFixture> {
  const db = await createTestDatabase(label);
  const keyPrefix = uniqueRedisPrefix(label);
  const logger = pino({ level: "silent" });
  const settings = { ...options.settings };
  const handle = createEngine({ databaseUrl: db.url, redisUrl: testRedisUrl, keyPrefix, logger, settings });
  const { engine } = handle;
  const { environment, apiKey } = await engine.createEnvironment({ name: "test" });
  const other = await engine.createEnvironment({ name: "other" });
  for (const env of [environment, other.environment]) {
    await engine.registerWorker(env, { version: "v1", name: "declares-tasks", concurrency: 1, tasks: [helloTask] });
  }
  const maxPayloadBytes = settings.maxPayloadBytes ?? 1_048_576;
  const app = buildServer({
    handle,
    logger,
    config: {
      ADMIN_TOKEN: "adminToken" in options ? options.adminToken : adminToken,
      API_BODY_LIMIT_BYTES: options.bodyLimitBytes ?? maxPayloadBytes + bodyEnvelopeBytes,
      API_BATCH_BODY_LIMIT_BYTES: options.batchBodyLimitBytes ?? defaultBatchBodyLimitBytes,
    },
  });
  await app.ready();
  return {
    app,
    handle,
    db,
    environment,
    apiKey,
    other,
    request: (method, url, { key = apiKey, body, headers = {} } = {}) =>
      app.inject({
        method,
        url,
        headers: { ...(key === null ? {} : { authorization: `Bearer ${key}` }), ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      }),
    runCount: () => db.prisma.taskRun.count(),
    async close() {
      await app.close();
      await handle.close();
      const redis = createTestRedis();
      await deleteKeysWithPrefix(redis, keyPrefix);
      redis.disconnect();
      await db.drop();
    },
  };
}
