import { expect, test } from "vitest";
import { z } from "zod";
import { ConfigError } from "../errors/runEngineError.ts";
import { parseConfig } from "./parseConfig.ts";
import { roleConfig } from "./roleConfig.ts";

test("a role's config: shared defaults, its own settings, and the lock rule kept", () => {
  const config = parseConfig(roleConfig.extend({ DISPATCHER_HEALTH_PORT: z.coerce.number().default(3031) }), {
    DATABASE_URL: "postgresql://postgres@127.0.0.1/runengine",
  });
  expect(config).toMatchObject({
    DISPATCHER_HEALTH_PORT: 3031,
    REDIS_URL: "redis://127.0.0.1:6379",
    RUN_LOCK_DURATION_MS: 5_000,
    HEARTBEAT_EXECUTING_TIMEOUT_MS: 30_000,
    LOG_LEVEL: "info",
  });
  expect(() =>
    parseConfig(roleConfig, {
      DATABASE_URL: "postgresql://postgres@127.0.0.1/runengine",
      RUN_LOCK_DURATION_MS: "300",
      RUN_LOCK_EXTENSION_THRESHOLD_MS: "250",
    }),
  ).toThrow(ConfigError);
  expect(() => parseConfig(roleConfig, {})).toThrow(/DATABASE_URL/);
});

test("the run queue on a Redis Cluster: seed nodes as host:port, a bad entry named", () => {
  const base = { DATABASE_URL: "postgresql://postgres@127.0.0.1/runengine" };
  expect(parseConfig(roleConfig, base)).toMatchObject({ RUN_QUEUE_SHARDS: 1 });
  expect(parseConfig(roleConfig, base).RUN_QUEUE_REDIS_CLUSTER_NODES).toBeUndefined();
  expect(parseConfig(roleConfig, { ...base, RUN_QUEUE_REDIS_CLUSTER_NODES: "10.0.0.1:7000, redis-b:7001,[::1]:7002", RUN_QUEUE_SHARDS: "6" })).toMatchObject({
    RUN_QUEUE_REDIS_CLUSTER_NODES: [
      { host: "10.0.0.1", port: 7000 },
      { host: "redis-b", port: 7001 },
      { host: "::1", port: 7002 },
    ],
    RUN_QUEUE_SHARDS: 6,
  });
  expect(() => parseConfig(roleConfig, { ...base, RUN_QUEUE_REDIS_CLUSTER_NODES: "10.0.0.1:7000,redis-b" })).toThrow(/RUN_QUEUE_REDIS_CLUSTER_NODES.*"redis-b" is not host:port/s);
  expect(() => parseConfig(roleConfig, { ...base, RUN_QUEUE_SHARDS: "0" })).toThrow(/RUN_QUEUE_SHARDS/);
});
