export { databaseConfig, type DatabaseConfig } from "./database.ts";
export { lockConfig, runLockerSettings, type LockConfig } from "./locking.ts";
export { logConfig, logLevels, type LogConfig, type LogLevel } from "./logging.ts";
export { parseConfig, parseConfigOrExit } from "./parseConfig.ts";
export { redisConfig, type RedisConfig } from "./redis.ts";
export { engineConfig, engineSettings, type EngineConfig } from "./engine.ts";
export { roleConfig, startEngineForRole, type RoleConfig } from "./roleConfig.ts";
