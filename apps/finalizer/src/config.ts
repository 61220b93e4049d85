import { parseConfigOrExit, roleConfig } from "@runengine/core";
import { z } from "zod";

export const finalizerConfig = roleConfig.extend({
  FINALIZER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(3032).describe("GET /healthz; 0 = none"),
  FINALIZER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50).describe("Jobs handled at once"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});

export const config = parseConfigOrExit(finalizerConfig);
