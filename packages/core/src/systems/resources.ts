import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { PrismaClient } from "@runengine/database";
import type { RunQueue } from "@runengine/run-queue";
import type { DispatchRelayKeys } from "../dispatch/dispatchRelay.ts";
import type { HeartbeatStore } from "../heartbeats/heartbeatStore.ts";
import type { JobProducer } from "../jobs/queues.ts";
import type { EngineMetrics } from "../metrics/engineMetrics.ts";
import type { RunLocker } from "../locking/runLocker.ts";
import type { SnapshotSystem } from "../snapshots/snapshotSystem.ts";

/** How long a run may stay in a status without a heartbeat before the monitor acts on it. */
export interface HeartbeatTimeouts {
  /** dequeued for a worker that has not started the attempt: requeued */
  pendingExecutingMs: number;
  /** executing: the attempt fails as stalled, then retries or ends */
  executingMs: number;
  /** cancel asked while on a worker that never confirmed: finished as CANCELED */
  pendingCancelMs: number;
  /**
   * suspended (checkpointed): how often its waitpoints are checked again, in case the job that
   * should have queued it was lost after a waitpoint completed
   */
  suspendedRecheckMs: number;
}

export interface EngineSettings {
  heartbeatTimeouts: HeartbeatTimeouts;
  /** the largest payload a trigger may carry, in bytes of JSON */
  maxPayloadBytes: number;
}

export const defaultEngineSettings: EngineSettings = {
  heartbeatTimeouts: { pendingExecutingMs: 30_000, executingMs: 30_000, pendingCancelMs: 15_000, suspendedRecheckMs: 60_000 },
  maxPayloadBytes: 1_048_576,
};

/** What every engine system shares. Systems take this plus the other systems they call. */
export interface EngineResources {
  prisma: PrismaClient;
  /** commands (not blocking, not subscribed) */
  redis: Redis;
  locker: RunLocker;
  snapshots: SnapshotSystem;
  runQueue: RunQueue;
  jobs: JobProducer;
  heartbeats: HeartbeatStore;
  relayKeys: DispatchRelayKeys;
  logger: Logger;
  settings: EngineSettings;
  /** this engine's Prometheus metrics, served at /metrics by every role */
  metrics: EngineMetrics;
}
