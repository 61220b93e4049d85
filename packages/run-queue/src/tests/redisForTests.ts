import { Cluster, Redis } from "ioredis";
import { createTestRedis, deleteKeysWithPrefix, uniqueRedisPrefix } from "@runengine/testing";
import { RunQueue, type RunQueueOptions } from "../index.ts";

/**
 * The Redis the suite runs against: a Cluster when REDIS_CLUSTER_NODES lists its nodes
 * ("127.0.0.1:7101,127.0.0.1:7102,..."; see scripts/redis-cluster.sh), else the single Redis of
 * @runengine/testing. Every test file uses its own key prefix.
 */
export const clusterNodes = process.env.REDIS_CLUSTER_NODES?.split(",")
  .map((node) => node.trim())
  .filter((node) => node.length > 0);

export type TestClient = Redis | Cluster;

export function createRedisForTests(): TestClient {
  if (!clusterNodes?.length) return createTestRedis();
  return new Cluster(
    clusterNodes.map((node) => {
      const [host, port] = node.split(":");
      return { host: host as string, port: Number(port) };
    }),
    { redisOptions: { maxRetriesPerRequest: 3 } },
  );
}

/** Deletes every key under the prefix, on every master of a cluster. */
export async function cleanupPrefix(redis: TestClient, prefix: string): Promise<void> {
  if (!(redis instanceof Cluster)) {
    await deleteKeysWithPrefix(redis, prefix);
    return;
  }
  // A multi-key UNLINK must stay in one slot, so in a cluster each key goes on its own.
  const keys = await keysWithPrefix(redis, prefix);
  for (let start = 0; start < keys.length; start += 1000) {
    await Promise.all(keys.slice(start, start + 1000).map((key) => redis.unlink(key)));
  }
}

/** Every key under the prefix (SCAN on every master), sorted. */
export async function keysWithPrefix(redis: TestClient, prefix: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
  }
  return keys.sort();
}

/** A manual clock for tests about time (deadlines, availability, rates). */
export class TestClock {
  constructor(public now = Date.now()) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/**
 * One test file's setup: a client, a unique prefix, and a factory of queues on them. Shards default
 * to 3 so the suite exercises the merge across shards.
 */
export function testSetup(label: string) {
  const redis = createRedisForTests();
  const prefix = uniqueRedisPrefix(`run-queue-${label}`);
  const queues: RunQueue[] = [];
  return {
    redis,
    prefix,
    queue(options: Partial<RunQueueOptions> = {}): RunQueue {
      const queue = new RunQueue({ redis, keyPrefix: prefix, shards: 3, ...options });
      queues.push(queue);
      return queue;
    },
    async teardown(): Promise<void> {
      await Promise.all(queues.map((queue) => queue.close()));
      await cleanupPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

/**
 * The state left under the prefix apart from config (limits, pause, rates), each env's monotonic
 * version and last reported state, and each shard's virtual clock: none of these grows with runs.
 */
export async function leftoverState(redis: TestClient, prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of await keysWithPrefix(redis, prefix)) {
    if (/\{shard:\d+\}:clock$/.test(key)) continue;
    const type = await redis.type(key);
    if (type === "hash") {
      const fields = await redis.hgetall(key);
      // Config (limits, pause, rates) and the env's monotonic version may stay; nothing else may.
      for (const keep of ["limit", "paused", "rl", "rp", "rk", "ver", "sig"]) delete fields[keep];
      if (Object.keys(fields).length > 0) out[key] = fields;
    } else {
      out[key] = type;
    }
  }
  return out;
}
