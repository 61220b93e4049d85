import { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { createPrismaClient } from "@runengine/database";
import { RunQueue } from "@runengine/run-queue";
import { dispatchRelayKeys, publishWorkAvailable } from "./dispatch/dispatchRelay.ts";
import { RunEngine } from "./engine.ts";
import { HeartbeatStore } from "./heartbeats/heartbeatStore.ts";
import { JobProducer, type JobQueuesOptions } from "./jobs/queues.ts";
import { RunLocker, type RunLockerSettings } from "./locking/runLocker.ts";
import { EngineMetrics } from "./metrics/engineMetrics.ts";
import { SnapshotSystem } from "./snapshots/snapshotSystem.ts";
import { defaultEngineSettings, type EngineSettings } from "./systems/resources.ts";

export interface CreateEngineOptions {
  databaseUrl: string;
  databasePoolSize?: number;
  redisUrl: string;
  /** prefix of every Redis key: run queue, locks, heartbeats, BullMQ jobs, dispatch relay */
  keyPrefix: string;
  logger: Logger;
  lock?: Partial<RunLockerSettings>;
  settings?: Partial<EngineSettings>;
  /** run queue shards of the ready-environment index */
  queueShards?: number;
  /** seed nodes of a Redis Cluster for the run queue; without them it is on `redisUrl` */
  runQueueClusterNodes?: { host: string; port: number }[];
}

export interface EngineHandle {
  engine: RunEngine;
  /** a fresh connection for a role that blocks (BLPOP) or subscribes */
  connectRedis(): Redis;
  /** where the engine's BullMQ jobs live, on a fresh connection, for a role's job worker */
  jobQueuesOptions(): JobQueuesOptions;
  /** Postgres and Redis both answer */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Builds a RunEngine and everything it stands on from settings. Every role calls this once; the
 * same wiring runs in one process for development and in separate containers in production.
 */
export function createEngine(options: CreateEngineOptions): EngineHandle {
  const connections: Redis[] = [];
  const connectRedis = (pipelined = false) => {
    // BullMQ requires maxRetriesPerRequest: null on the connections it blocks on; commands retry
    // across reconnects instead of failing while Redis restarts.
    const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null, enableAutoPipelining: pipelined });
    connections.push(redis);
    return redis;
  };
  // The engine's own commands (locks, queue scripts, heartbeats) issued in one tick by concurrent
  // operations go out as one write. BullMQ keeps a plain connection: it is not tested that way.
  const redis = connectRedis(true);
  const jobsConnection = connectRedis();
  const prisma = createPrismaClient({ databaseUrl: options.databaseUrl, poolSize: options.databasePoolSize ?? 10 });
  const metrics = new EngineMetrics();
  const locker = new RunLocker({ redis, keyPrefix: `${options.keyPrefix}lock:`, logger: options.logger, onWait: metrics.observeLockWait, ...options.lock });
  const relayKeys = dispatchRelayKeys(options.keyPrefix);
  // Only the run queue moves to a cluster: its keys are hash-tagged per environment and shard,
  // while BullMQ, the locks and the relay keep the single Redis they were built and tested on.
  const runQueueRedis = options.runQueueClusterNodes
    ? new Cluster(options.runQueueClusterNodes, { redisOptions: { maxRetriesPerRequest: null }, enableAutoPipelining: true })
    : redis;
  // The engine's retry policy decides when a run fails; the queue's own dead-lettering is only a
  // backstop against a run bouncing between queue and workers forever. Waiting dispatchers hear
  // of new runs as soon as they are queued, without a round trip of the enqueue's own.
  const runQueue = new RunQueue({
    redis: runQueueRedis,
    keyPrefix: `${options.keyPrefix}rq:`,
    maxNackAttempts: 1_000,
    logger: options.logger,
    shards: options.queueShards ?? 1,
    onEnqueued: () => {
      publishWorkAvailable(redis, relayKeys).catch((error: unknown) => {
        options.logger.warn({ event: "dispatch:announce-failed", err: error }, "announcing new runs failed; dispatchers find them at their next retry");
      });
    },
  });
  const jobsPrefix = `${options.keyPrefix}bull`;
  const jobs = new JobProducer({ connection: jobsConnection, prefix: jobsPrefix });
  const engine = new RunEngine({
    prisma,
    redis,
    locker,
    snapshots: new SnapshotSystem({ prisma, locker, logger: options.logger }),
    runQueue,
    jobs,
    heartbeats: new HeartbeatStore(redis, options.keyPrefix),
    relayKeys,
    logger: options.logger,
    settings: { ...defaultEngineSettings, ...options.settings },
    metrics,
  });
  return {
    engine,
    connectRedis: () => connectRedis(),
    jobQueuesOptions: () => ({ connection: connectRedis(), prefix: jobsPrefix }),
    async healthy() {
      try {
        await Promise.all([prisma.$queryRaw`SELECT 1`, redis.ping(), runQueueRedis === redis ? undefined : runQueueRedis.ping()]);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await jobs.close();
      await runQueue.close();
      await prisma.$disconnect();
      for (const connection of connections) connection.disconnect();
      if (runQueueRedis !== redis) runQueueRedis.disconnect();
    },
  };
}
