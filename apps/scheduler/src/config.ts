import { parseConfigOrExit, roleConfig } from "@runengine/core";
import { z } from "zod";

export const schedulerConfig = roleConfig.extend({
  SCHEDULER_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(3034).describe("GET /healthz and /metrics; 0 = none"),
  SCHEDULER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50).describe("Scheduled jobs handled at once"),
  SCHEDULE_REARM_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(60_000)
    .describe("How often every active cron schedule's current tick is armed again (lost or failed tick jobs)"),
  SCHEDULER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000).describe("How often overdue delayed and expiring runs are checked for a lost job"),
  SCHEDULER_SWEEP_GRACE_MS: z.coerce.number().int().min(1_000).default(30_000).describe("How long past its moment a run must be before its job counts as lost"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});

export const config = parseConfigOrExit(schedulerConfig);
