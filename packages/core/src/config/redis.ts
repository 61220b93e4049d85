import { z } from "zod";

/** Every role's Redis connection (run queue, locks, BullMQ jobs share one server). */
export const redisConfig = z.object({
  REDIS_URL: z.url().default("redis://127.0.0.1:6379").describe("Redis server URL (redis:// or rediss://)"),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]*$/, "letters, digits, ':', '_' and '-' only")
    .default("runengine:")
    .describe("Prefix of every Redis key the engine writes, so several engines (or tests) can share one server"),
});
export type RedisConfig = z.output<typeof redisConfig>;
