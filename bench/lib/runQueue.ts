import type { Redis } from "ioredis";

/**
 * The part of @runengine/run-queue the bench drives. Declared structurally so the bench (and its
 * BullMQ half) still loads while the package is being written; `loadRunQueue` says why it could
 * not be used instead of failing the whole run.
 */
export interface RunMessage {
  runId: string;
  orgId: string;
  envId: string;
  queue: string;
  concurrencyKey?: string;
  priority?: number;
  availableAt?: number;
  attempt: number;
}

export interface RunQueueLike {
  enqueue(message: RunMessage): Promise<unknown>;
  enqueueMany?(messages: RunMessage[]): Promise<unknown>;
  dequeue(opts: { consumerId: string; maxCount: number }): Promise<RunMessage[]>;
  ack(runId: string): Promise<unknown>;
  /** Acks many runs in one call (grouped by env inside); absent in versions without it. */
  ackMany?(runIds: string[]): Promise<unknown>;
  setConcurrencyLimit(opts: { envId: string; queue?: string; limit: number }): Promise<unknown>;
  stats(opts: { envId: string; queue?: string }): Promise<{ queued: number; inFlight: number; limit: number | null }>;
  close(): Promise<unknown>;
}

export interface RunQueueOptions {
  redis: Redis;
  keyPrefix: string;
  visibilityTimeoutMs?: number;
}

export type RunQueueFactory = (opts: RunQueueOptions) => RunQueueLike;

export async function loadRunQueue(): Promise<{ create: RunQueueFactory } | { unavailable: string }> {
  try {
    const mod: Record<string, unknown> = await import(new URL("../../packages/run-queue/src/index.ts", import.meta.url).href);
    const RunQueue = mod.RunQueue as (new (opts: RunQueueOptions) => RunQueueLike) | undefined;
    if (typeof RunQueue !== "function") return { unavailable: "packages/run-queue/src/index.ts does not export RunQueue" };
    return { create: (opts) => new RunQueue(opts) };
  } catch (err) {
    return { unavailable: `cannot load packages/run-queue: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}` };
  }
}

/** Enqueues a batch in one call when the queue offers it, else as concurrent single enqueues. */
export async function enqueueBatch(rq: RunQueueLike, messages: RunMessage[]): Promise<void> {
  if (rq.enqueueMany) await rq.enqueueMany(messages);
  else await Promise.all(messages.map((m) => rq.enqueue(m)));
}
