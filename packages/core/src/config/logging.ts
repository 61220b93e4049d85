import { z } from "zod";

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export const logConfig = z.object({
  LOG_LEVEL: z.enum(logLevels).default("info").describe("Lowest pino level written"),
});
export type LogConfig = z.output<typeof logConfig>;
