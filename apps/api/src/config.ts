import { z } from "zod";
import { parseConfig, parseConfigOrExit, roleConfig } from "@runengine/core";

/** Room for the JSON envelope (options, tags, metadata) around a payload of the largest size. */
export const bodyEnvelopeBytes = 64 * 1024;
/** A batch holds up to 1,000 items, each up to MAX_PAYLOAD_BYTES: one payload's limit is too little. */
export const defaultBatchBodyLimitBytes = 16 * 1024 * 1024;

/** Every variable the api reads; the shared role config keeps it in step with the other roles. */
export const apiConfigSchema = roleConfig.extend({
  API_PORT: z.coerce.number().int().min(0).max(65_535).default(3030).describe("Port the HTTP API listens on"),
  API_HOST: z.string().min(1).default("0.0.0.0").describe("Interface the HTTP API listens on"),
  ADMIN_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe("Bearer token of operators' routes (environments, Bull Board); without it those routes refuse every request"),
  API_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(`Largest request body, in bytes; defaults to MAX_PAYLOAD_BYTES + ${bodyEnvelopeBytes} for the envelope`),
  API_BATCH_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      `Largest body of a batch trigger, or of a worker's wait (which may trigger a batch); defaults to ${defaultBatchBodyLimitBytes} (16 MiB) or API_BODY_LIMIT_BYTES if that is larger`,
    ),
  API_SHUTDOWN_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(70_000)
    .describe("How long a graceful stop may wait for in-flight requests (a worker's long poll lasts up to 60 s)"),
  RUNENGINE_DEV_API_KEY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("Where to also write the key of the development environment created on a first start (read by the dev launcher)"),
});

export type ApiConfig = Omit<z.output<typeof apiConfigSchema>, "API_BODY_LIMIT_BYTES" | "API_BATCH_BODY_LIMIT_BYTES"> & {
  API_BODY_LIMIT_BYTES: number;
  API_BATCH_BODY_LIMIT_BYTES: number;
};

/**
 * Parses the api's configuration once. `parse` is parseConfig (throws ConfigError naming every
 * bad variable) in tests, and parseConfigOrExit at the entry point.
 */
export function loadApiConfig(env: NodeJS.ProcessEnv = process.env, parse = parseConfig): ApiConfig {
  const parsed = parse(apiConfigSchema, env);
  // The defaults depend on other variables, so they are filled after parsing.
  const bodyLimit = parsed.API_BODY_LIMIT_BYTES ?? parsed.MAX_PAYLOAD_BYTES + bodyEnvelopeBytes;
  return {
    ...parsed,
    API_BODY_LIMIT_BYTES: bodyLimit,
    API_BATCH_BODY_LIMIT_BYTES: parsed.API_BATCH_BODY_LIMIT_BYTES ?? Math.max(defaultBatchBodyLimitBytes, bodyLimit),
  };
}
