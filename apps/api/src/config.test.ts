import { describe, expect, test } from "vitest";
import { ConfigError } from "@runengine/core";
import { apiConfigSchema, loadApiConfig } from "./config.ts";

const minimalEnv = { DATABASE_URL: "postgresql://postgres@127.0.0.1:5432/runengine" };

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadApiConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("api config", () => {
  test("a minimal environment gets the documented defaults", () => {
    const config = loadApiConfig(minimalEnv);
    expect(config).toMatchObject({
      API_PORT: 3030,
      API_HOST: "0.0.0.0",
      MAX_PAYLOAD_BYTES: 1_048_576,
      API_BODY_LIMIT_BYTES: 1_048_576 + 64 * 1024,
      REDIS_URL: "redis://127.0.0.1:6379",
    });
    expect(config.ADMIN_TOKEN).toBeUndefined();
    expect(config.RUNENGINE_DEV_API_KEY_FILE).toBeUndefined();
  });

  test("the body limit follows MAX_PAYLOAD_BYTES unless set", () => {
    expect(loadApiConfig({ ...minimalEnv, MAX_PAYLOAD_BYTES: "1000" }).API_BODY_LIMIT_BYTES).toBe(1000 + 64 * 1024);
    expect(loadApiConfig({ ...minimalEnv, MAX_PAYLOAD_BYTES: "1000", API_BODY_LIMIT_BYTES: "5000" }).API_BODY_LIMIT_BYTES).toBe(5000);
  });

  test("a batch's body limit is 16 MiB, or the body limit if that is larger, unless set", () => {
    expect(loadApiConfig(minimalEnv).API_BATCH_BODY_LIMIT_BYTES).toBe(16 * 1024 * 1024);
    expect(loadApiConfig({ ...minimalEnv, API_BODY_LIMIT_BYTES: String(32 * 1024 * 1024) }).API_BATCH_BODY_LIMIT_BYTES).toBe(32 * 1024 * 1024);
    expect(loadApiConfig({ ...minimalEnv, API_BATCH_BODY_LIMIT_BYTES: "9000" }).API_BATCH_BODY_LIMIT_BYTES).toBe(9000);
  });

  test("names every bad variable", () => {
    const error = configError({ ...minimalEnv, API_PORT: "http", API_BODY_LIMIT_BYTES: "-1", RUN_LOCK_DURATION_MS: "soon" });
    expect([...error.variables].sort()).toEqual(["API_BODY_LIMIT_BYTES", "API_PORT", "RUN_LOCK_DURATION_MS"]);
    expect(configError({}).variable).toBe("DATABASE_URL");
  });

  test("every variable is described", () => {
    for (const [variable, schema] of Object.entries(apiConfigSchema.shape)) expect(schema.description, variable).toBeTruthy();
  });
});
