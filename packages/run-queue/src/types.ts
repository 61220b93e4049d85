import { z } from "zod";

/** Largest priority: a run's head start is capped at one day, so normal runs always progress. */
export const MAX_PRIORITY = 86_400;

/**
 * What `enqueue` takes. `priority` is a head start in seconds (0..86400): inside its queue and
 * concurrency key the run is ordered as if it had become available that much earlier.
 * `availableAt` (ms since epoch, default now) holds the run back until then.
 */
export interface EnqueueMessage {
  runId: string;
  orgId: string;
  envId: string;
  queue: string;
  concurrencyKey?: string;
  priority?: number;
  availableAt?: number;
  /** Attempts already made (default 0); nack and reclaim count up from it. */
  attempt?: number;
}

/** A run as the queue knows it. */
export interface QueueMessage {
  runId: string;
  orgId: string;
  envId: string;
  queue: string;
  concurrencyKey?: string;
  priority: number;
  availableAt: number;
  attempt: number;
}

/** A dequeued run: in flight, holding a slot, until ack/nack/release or `deadline` passes. */
export interface DequeuedMessage extends QueueMessage {
  /** Visibility deadline (ms since epoch): after it, `reclaimExpired()` queues the run again. */
  deadline: number;
}

export interface DeadLetter extends QueueMessage {
  deadLetteredAt: number;
}

export type EnqueueResult = "created" | "requeued" | "exists";

export type RunState = "queued" | "inFlight" | "released" | "deadLettered";

/** A reason a queued run is not dequeued now. */
export type Blocker = "notYetAvailable" | "paused" | "environment" | "queue" | "concurrencyKey" | "rate";

export type Explanation =
  | { runId: string; state: "unknown" }
  | {
      runId: string;
      state: RunState;
      message: QueueMessage;
      /** Queued runs: 0-based rank among the available runs of its queue and key; null if not available yet. */
      position: number | null;
      /** Queued runs: everything that holds it back now; empty means it is waiting for its turn. */
      blockedBy: Blocker[];
      /** When a used-up rate allows the next dequeue, if `rate` blocks it. */
      rateAllowedAt: number | null;
      /** In-flight runs: the consumer and its visibility deadline. */
      consumerId: string | null;
      deadline: number | null;
    };

export interface QueueStats {
  queued: number;
  inFlight: number;
  /** null when no limit is set. */
  limit: number | null;
}

/** Reacquire either took a slot or names the limit that prevents it. */
export type ReacquireResult = { acquired: true } | { acquired: false; blockedBy: "environment" | "queue" | "concurrencyKey" };

export interface ReclaimResult {
  requeued: number;
  deadLettered: number;
  runIds: string[];
}

/** pino-compatible. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const name = z.string().min(1).max(512);

export const enqueueMessageSchema = z.object({
  runId: name,
  orgId: name,
  envId: name,
  queue: name,
  concurrencyKey: z.string().max(512).optional(),
  priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
  availableAt: z.number().int().nonnegative().optional(),
  attempt: z.number().int().nonnegative().optional(),
});

export const limitSchema = z.number().int().nonnegative().nullable();
export const envIdSchema = name;
export const queueNameSchema = name;
