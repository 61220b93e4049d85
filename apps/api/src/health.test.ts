import pino from "pino";
import { afterAll, expect, test } from "vitest";
import { createEngine, type EngineHandle } from "@runengine/core";
import { testRedisUrl, testServerUrl, uniqueRedisPrefix } from "@runengine/testing";
import { isHealthy } from "./health.ts";

const handles: EngineHandle[] = [];
afterAll(async () => {
  await Promise.all(handles.map((handle) => handle.close()));
});

/** A real engine; the health check needs no schema, so the server's own database will do. */
function engineAt(databaseUrl: string, redisUrl: string): EngineHandle {
  const handle = createEngine({ databaseUrl, redisUrl, keyPrefix: uniqueRedisPrefix("api-health"), logger: pino({ level: "silent" }) });
  // an unreachable Redis is the point of some cases: keep its connection errors out of the output
  handle.engine.resources.redis.on("error", () => undefined);
  handles.push(handle);
  return handle;
}

test("healthy while Postgres and Redis answer", async () => {
  expect(await isHealthy(engineAt(testServerUrl, testRedisUrl))).toBe(true);
});

test("unhealthy, within the check timeout, when Redis or Postgres does not answer", async () => {
  const closedPort = "127.0.0.1:1";
  const startedAt = Date.now();
  const [redisDown, postgresDown] = await Promise.all([
    isHealthy(engineAt(testServerUrl, `redis://${closedPort}`)),
    isHealthy(engineAt(`postgresql://postgres@${closedPort}/postgres`, testRedisUrl)),
  ]);
  expect(redisDown).toBe(false);
  expect(postgresDown).toBe(false);
  expect(Date.now() - startedAt).toBeLessThan(4_000);
});
