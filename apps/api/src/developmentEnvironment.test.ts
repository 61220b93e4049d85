import pino from "pino";
import { afterAll, beforeAll, expect, test } from "vitest";
import { authenticateApiKey, createEngine, type EngineHandle } from "@runengine/core";
import { createTestDatabase, createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from "@runengine/testing";
import { createFirstEnvironment } from "./developmentEnvironment.ts";

let db: TestDatabase;
const keyPrefix = uniqueRedisPrefix("api-first-start");
const replicas: EngineHandle[] = [];
beforeAll(async () => {
  db = await createTestDatabase("api_first_start");
  for (let i = 0; i < 4; i++) {
    replicas.push(createEngine({ databaseUrl: db.url, redisUrl: testRedisUrl, keyPrefix, logger: pino({ level: "silent" }) }));
  }
});
afterAll(async () => {
  await Promise.all(replicas.map((handle) => handle.close()));
  const redis = createTestRedis();
  await deleteKeysWithPrefix(redis, keyPrefix);
  redis.disconnect();
  await db.drop();
});

test("replicas starting at once on an empty database create exactly one development environment", async () => {
  const results = await Promise.all(replicas.map((handle) => createFirstEnvironment(handle)));
  const created = results.filter((result) => result !== undefined);
  expect(created).toHaveLength(1);

  const environments = await db.prisma.runtimeEnvironment.findMany();
  expect(environments).toHaveLength(1);
  expect(environments[0]).toMatchObject({ id: created[0]!.environmentId, name: "development", type: "DEVELOPMENT" });
  expect(await authenticateApiKey(db.prisma, created[0]!.apiKey)).toMatchObject({ id: created[0]!.environmentId });

  // a later start finds it and creates nothing
  expect(await createFirstEnvironment(replicas[0]!)).toBeUndefined();
  expect(await db.prisma.runtimeEnvironment.count()).toBe(1);
});
