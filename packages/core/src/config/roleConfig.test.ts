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
