export { createTestDatabase, testServerUrl, type TestDatabase } from "./testDatabase.ts";
export { createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "./testRedis.ts";
export {
  freePort,
  processLogDir,
  roles,
  startEngineProcesses,
  startNodeProcess,
  type EngineProcesses,
  type EngineProcessesOptions,
  type ManagedProcess,
  type Role,
} from "./processes.ts";
