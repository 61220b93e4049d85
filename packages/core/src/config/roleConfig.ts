import type { z } from "zod";
import { createEngine, type EngineHandle } from "../createEngine.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { databaseConfig } from "./database.ts";
import { engineConfig, engineSettings } from "./engine.ts";
import { lockConfig, runLockerSettings } from "./locking.ts";
import { logConfig } from "./logging.ts";
import { redisConfig, runQueueRedisConfig } from "./redis.ts";

/**
 * What every role of the engine reads from its environment. Each app extends it with its own
 * settings (`roleConfig.extend({...})`, which keeps lockConfig's cross-field rule).
 */
export const roleConfig = lockConfig.extend({
  ...databaseConfig.shape,
  ...redisConfig.shape,
  ...runQueueRedisConfig.shape,
  ...logConfig.shape,
  ...engineConfig.shape,
});
export type RoleConfig = z.output<typeof roleConfig>;

/** The logger and the engine of a role, built from its parsed config. */
export function startEngineForRole(service: string, config: RoleConfig): { logger: Logger; handle: EngineHandle } {
  const logger = createLogger({ service, level: config.LOG_LEVEL });
  const handle = createEngine({
    databaseUrl: config.DATABASE_URL,
    databasePoolSize: config.DATABASE_POOL_SIZE,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    ...(config.RUN_QUEUE_REDIS_CLUSTER_NODES ? { runQueueClusterNodes: config.RUN_QUEUE_REDIS_CLUSTER_NODES } : {}),
    queueShards: config.RUN_QUEUE_SHARDS,
    logger,
    lock: runLockerSettings(config),
    settings: engineSettings(config),
  });
  return { logger, handle };
}
