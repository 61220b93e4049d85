import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "@runengine/testing";
import { RunLocker, type RunLockerOptions } from "../runLocker.ts";

/**
 * Lockers for one test file: each with its own Redis connection (as separate processes would
 * have), all under one key prefix that is deleted, with the connections, after the file.
 */
export function lockerFixture(label: string) {
  const keyPrefix = uniqueRedisPrefix(label);
  const connections: Redis[] = [];
  const admin = new Redis(testRedisUrl);

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.quit()));
    await deleteKeysWithPrefix(admin, keyPrefix);
    await admin.quit();
  });

  return {
    keyPrefix,
    /** a connection for looking at (or tampering with) the lock keys */
    admin,
    newLocker(options: Omit<RunLockerOptions, "redis" | "keyPrefix"> = {}): RunLocker {
      const redis = new Redis(testRedisUrl);
      connections.push(redis);
      return new RunLocker({ ...options, redis, keyPrefix });
    },
  };
}

/**
 * Takes the lock of `runId` with `locker` and keeps it until the returned function is called (which
 * resolves once it is released). Resolves only when the lock is really held: a test that merely
 * started the holder could see a rival win the race to Redis.
 */
export async function holdLock(locker: RunLocker, runId: string): Promise<() => Promise<void>> {
  let entered!: () => void;
  let release!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const holding = locker.lock(runId, () => {
    entered();
    return new Promise<void>((resolve) => (release = resolve));
  });
  await Promise.race([inside, holding]);
  return async () => {
    release();
    await holding;
  };
}
