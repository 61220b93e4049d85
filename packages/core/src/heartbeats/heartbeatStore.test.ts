import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "@runengine/testing";
import { HeartbeatStore } from "./heartbeatStore.ts";

const prefix = uniqueRedisPrefix("heartbeats");
const redis = new Redis(testRedisUrl);
afterAll(async () => {
  await deleteKeysWithPrefix(redis, prefix);
  redis.disconnect();
});

const entry = (runId: string, snapshotId: string, environmentId = "env") => ({ environmentId, runId, snapshotId });

describe("HeartbeatStore", () => {
  test("a new snapshot replaces the previous one's deadline; a stale heartbeat extends nothing", async () => {
    const store = new HeartbeatStore(redis, `${prefix}a:`);
    await store.track(entry("run_1", "s1"), null, 1_000);
    expect(await store.beat(entry("run_1", "s1"), 2_000)).toBe(true);
    expect(await store.deadlineOf(entry("run_1", "s1"))).toBe(2_000);

    await store.track(entry("run_1", "s2"), "s1", 5_000);
    expect(await store.deadlineOf(entry("run_1", "s1"))).toBeNull();
    expect(await store.beat(entry("run_1", "s1"), 9_000)).toBe(false);
    expect(await store.deadlineOf(entry("run_1", "s1"))).toBeNull();
    expect(await store.deadlineOf(entry("run_1", "s2"))).toBe(5_000);

    await store.track(entry("run_1", "s3"), "s2", undefined);
    expect(await store.size()).toBe(0);
  });

  test("a heartbeat naming another environment extends nothing, even with the right snapshot", async () => {
    const store = new HeartbeatStore(redis, `${prefix}env:`);
    await store.track(entry("run_1", "s1", "env-a"), null, 1_000);
    expect(await store.beat(entry("run_1", "s1", "env-b"), 9_000)).toBe(false);
    expect(await store.deadlineOf(entry("run_1", "s1", "env-a"))).toBe(1_000);
  });

  test("overdue entries are claimed by exactly one of several monitors, and come due again after the claim", async () => {
    const store = new HeartbeatStore(redis, `${prefix}b:`);
    for (let i = 0; i < 50; i++) await store.track(entry(`run_${i}`, "s"), null, 100 + i);
    await store.track(entry("run_future", "s"), null, 10_000);

    const monitorConnections = Array.from({ length: 4 }, () => new Redis(testRedisUrl));
    const monitors = monitorConnections.map((connection) => new HeartbeatStore(connection, `${prefix}b:`));
    const claims = await Promise.all(monitors.map((m) => m.claimOverdue(1_000, 100, 5_000)));
    for (const connection of monitorConnections) connection.disconnect();
    const claimed = claims.flat().map((c) => c.runId);
    expect(claimed).toHaveLength(50);
    expect(new Set(claimed).size).toBe(50);
    expect(claimed).not.toContain("run_future");

    expect(await store.claimOverdue(1_000, 100, 5_000)).toEqual([]);
    expect(await store.claimOverdue(6_001, 100, 5_000)).toHaveLength(50);
  });

  test("run ids containing ':' survive the round trip", async () => {
    const store = new HeartbeatStore(redis, `${prefix}c:`);
    await store.track(entry("org:run:1", "snap", "env"), null, 1);
    expect(await store.claimOverdue(10, 10, 1_000)).toEqual([entry("org:run:1", "snap", "env")]);
  });
});
