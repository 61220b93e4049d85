import { parseConfigOrExit, roleConfig } from "@runengine/core";
import { z } from "zod";

export const heartbeatMonitorConfig = roleConfig.extend({
  HEARTBEAT_MONITOR_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(3033).describe("GET /healthz; 0 = none"),
  HEARTBEAT_MONITOR_INTERVAL_MS: z.coerce.number().int().min(10).default(1_000).describe("Pause between passes over overdue heartbeats"),
  QUEUE_RECLAIM_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(5_000)
    .describe("Pause between passes that requeue run-queue entries whose holder died before the run was locked to a worker"),
  RECONCILE_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(5_000)
    .describe("Pause between reconcile passes: free leaked queue slots, rebuild the queue from Postgres if Redis lost it"),
  RECONCILE_STRAY_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30_000)
    .describe("How long a slot held by a run that is neither final nor on a worker stays before the reconciler frees it"),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});

export const config = parseConfigOrExit(heartbeatMonitorConfig);
