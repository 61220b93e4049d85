export { createTestDatabase, testServerUrl, type TestDatabase } from "./testDatabase.ts";
export { startLocalPostgres, type LocalPostgres } from "./localPostgres.ts";
export { createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "./testRedis.ts";
export {
  createEnvironmentThroughApi,
  freePort,
  processLogDir,
  roles,
  startEngineProcesses,
  spawnWorkerProcess,
  startNodeProcess,
  waitForRegistration,
  type EngineProcesses,
  type EngineProcessesOptions,
  type ManagedProcess,
  type Role,
  type WorkerProcessOptions,
} from "./processes.ts";
