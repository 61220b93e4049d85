import { describe, expect, test } from "vitest";
import { ConfigError } from "../errors/runEngineError.ts";
import { runLockDefaults } from "../locking/runLocker.ts";
import { databaseConfig } from "./database.ts";
import { lockConfig, runLockerSettings } from "./locking.ts";
import { logConfig } from "./logging.ts";
import { parseConfig } from "./parseConfig.ts";
import { redisConfig } from "./redis.ts";

// how an app composes its schema: extend the refined fragment so its cross-field rule is kept
const appConfig = lockConfig.extend({ ...redisConfig.shape, ...databaseConfig.shape, ...logConfig.shape });
const minimalEnv = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/runengine" };

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(appConfig, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
  test("fills every default from a minimal environment", () => {
    expect(parseConfig(appConfig, minimalEnv)).toEqual({
      DATABASE_URL: minimalEnv.DATABASE_URL,
      DATABASE_POOL_SIZE: 10,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: "runengine:",
      LOG_LEVEL: "info",
      RUN_LOCK_DURATION_MS: 5000,
      RUN_LOCK_EXTENSION_THRESHOLD_MS: 1000,
      RUN_LOCK_RETRY_COUNT: 50,
      RUN_LOCK_RETRY_DELAY_MS: 100,
      RUN_LOCK_RETRY_JITTER_MS: 50,
      RUN_LOCK_ACQUIRE_TIMEOUT_MS: 5000,
    });
  });

  test("reads numbers from strings and ignores unrelated variables", () => {
    const config = parseConfig(appConfig, { ...minimalEnv, RUN_LOCK_DURATION_MS: "8000", DATABASE_POOL_SIZE: "3", HOME: "/root" });
    expect(config).toMatchObject({ RUN_LOCK_DURATION_MS: 8000, DATABASE_POOL_SIZE: 3 });
    expect(config).not.toHaveProperty("HOME");
  });

  test("a blank variable counts as unset", () => {
    expect(parseConfig(appConfig, { ...minimalEnv, RUN_LOCK_RETRY_COUNT: "", LOG_LEVEL: "  " })).toMatchObject({ RUN_LOCK_RETRY_COUNT: 50, LOG_LEVEL: "info" });
  });

  test("names a missing required variable", () => {
    const error = configError({});
    expect(error).toMatchObject({ code: "CONFIG", name: "ConfigError", variable: "DATABASE_URL", variables: ["DATABASE_URL"] });
    expect(error.message).toMatch(/^Invalid configuration: DATABASE_URL: /);
    expect(error.cause).toBeDefined();
  });

  test("names every bad variable at once", () => {
    const error = configError({ DATABASE_URL: "mysql://x", RUN_LOCK_DURATION_MS: "soon", LOG_LEVEL: "loud", REDIS_URL: "not a url" });
    expect([...error.variables].sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "REDIS_URL", "RUN_LOCK_DURATION_MS"]);
  });

  test("names the extension threshold when it leaves no time to extend", () => {
    const error = configError({ ...minimalEnv, RUN_LOCK_DURATION_MS: "1000", RUN_LOCK_EXTENSION_THRESHOLD_MS: "950" });
    expect(error.variables).toEqual(["RUN_LOCK_EXTENSION_THRESHOLD_MS"]);
  });
});

test("every variable is described, for the docs and error messages", () => {
  for (const [variable, schema] of Object.entries(appConfig.shape)) {
    expect(schema.description, variable).toBeTruthy();
  }
});

test("the lock config's defaults are the RunLocker's defaults", () => {
  expect(runLockerSettings(parseConfig(lockConfig, {}))).toEqual(runLockDefaults);
});
