export { createTestDatabase, testServerUrl, type TestDatabase } from "./testDatabase.ts";
export { createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "./testRedis.ts";
