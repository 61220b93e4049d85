import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const testRedisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/** A key prefix no other test file shares: `test:<label>:<random>:`. */
export function uniqueRedisPrefix(label: string): string {
  return `test:${label.replace(/[^a-zA-Z0-9]+/g, "-")}:${randomBytes(4).toString("hex")}:`;
}

export function createTestRedis(): Redis {
  return new Redis(testRedisUrl, { maxRetriesPerRequest: 3 });
}

/** Deletes every key under `prefix` (SCAN + UNLINK, never KEYS). */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
