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

const clusterNode = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d{1,5})$/;

/**
 * Where the run queue lives when it outgrows one Redis: seed nodes of a Redis Cluster. Locks,
 * heartbeats, BullMQ jobs and the dispatch relay stay on REDIS_URL.
 */
export const runQueueRedisConfig = z.object({
  RUN_QUEUE_REDIS_CLUSTER_NODES: z
    .string()
    .transform((list, context) => {
      const nodes = list.split(",").map((node) => node.trim());
      for (const node of nodes) {
        if (!clusterNode.test(node)) context.addIssue({ code: "custom", message: `"${node}" is not host:port` });
      }
      return nodes.map((node) => {
        const separator = node.lastIndexOf(":");
        return { host: node.slice(0, separator).replace(/^\[|\]$/g, ""), port: Number(node.slice(separator + 1)) };
      });
    })
    .optional()
    .describe("Seed nodes of a Redis Cluster for the run queue, host:port,host:port (unset: the run queue is on REDIS_URL)"),
  RUN_QUEUE_SHARDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_024)
    .default(1)
    .describe("Shards of the run queue's index of ready environments; on a cluster about twice its masters. Every role must use the same value"),
});
export type RunQueueRedisConfig = z.output<typeof runQueueRedisConfig>;
