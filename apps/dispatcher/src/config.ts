import { parseConfigOrExit, roleConfig } from "@runengine/core";
import { z } from "zod";

export const dispatcherConfig = roleConfig.extend({
  DISPATCHER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(3031).describe("GET /healthz; 0 = none"),
  DISPATCH_RETRY_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(200)
    .describe("How often waiting worker requests retry without a wake-up (covers runs that become ready by time alone)"),
  DISPATCH_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8).describe("Worker requests served at once"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});

export const config = parseConfigOrExit(dispatcherConfig);
