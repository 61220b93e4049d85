import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { dequeuedRunSchema, type DequeuedRun } from "../schemas/workerProtocol.ts";

/**
 * Carries a worker's long-poll for runs from the api (which holds the HTTP request) to a dispatcher
 * (which dequeues from the fair queue), and the runs back. Requests wait in one Redis list that every
 * dispatcher pops, so dispatchers scale out; replies go by pub/sub to the api instance that asked.
 * A dispatcher dequeues only for a request, at most `maxRuns` (the worker's free slots): no run
 * sits in a buffer where it would escape fairness.
 *
 * A worker that stops polling (its HTTP request closed) withdraws its request, announced to every
 * dispatcher by pub/sub (so serving a request costs no lookup): dispatchers drop it, and runs a
 * dispatcher handed over before it saw the withdrawal (or while it was not subscribed) go to
 * `onUndelivered`, which queues them again at once. A reply whose api instance died is lost with it; those runs sit in
 * PENDING_EXECUTING and the heartbeat monitor requeues them after that status's deadline.
 */
export const dispatchRequestSchema = z.object({
  requestId: z.string(),
  replyChannel: z.string(),
  workerId: z.string(),
  environmentId: z.string(),
  deploymentId: z.string(),
  maxRuns: z.number().int().min(1),
  /** epoch ms after which the api has stopped waiting: answer empty, dequeue nothing */
  deadline: z.number(),
});
export type DispatchRequest = z.output<typeof dispatchRequestSchema>;

const dispatchReplySchema = z.object({ requestId: z.string(), runs: z.array(dequeuedRunSchema) });
type DispatchReply = z.output<typeof dispatchReplySchema>;
/** What goes over pub/sub: the reply itself, or word that it waits under `replyBody(requestId)`. */
const dispatchReplyMessageSchema = z.union([dispatchReplySchema, z.object({ requestId: z.string(), stored: z.literal(true) })]);

/**
 * Replies longer than this (runs with large payloads) are stored under a key and only announced
 * by pub/sub: Redis disconnects a subscriber whose unread messages pass 32 MB (its default
 * `client-output-buffer-limit pubsub`), which would lose every reply on the way to that api.
 */
export const inlineReplyLimitBytes = 256 * 1024;
/** A stored reply the api never fetched (it died) is gone after this. */
const storedReplyTtlMs = 120_000;

/** A request whose worker stopped waiting; dispatchers drop it unanswered for `openForMs`. */
export const dispatchWithdrawalSchema = z.object({ requestId: z.string(), openForMs: z.number().int().positive() });
export type DispatchWithdrawal = z.output<typeof dispatchWithdrawalSchema>;

export interface DispatchRelayKeys {
  requests: string;
  /** where the api announces that the worker behind a request stopped waiting for it */
  withdrawnChannel: string;
  replyChannel(instanceId: string): string;
  /** where a reply too large for pub/sub waits for its api (see inlineReplyLimitBytes) */
  replyBody(requestId: string): string;
  /** published whenever a run becomes dequeueable, so waiting dispatchers try again at once */
  workAvailableChannel: string;
}

export function dispatchRelayKeys(prefix: string): DispatchRelayKeys {
  return {
    requests: `${prefix}dispatch:requests`,
    withdrawnChannel: `${prefix}dispatch:withdrawn`,
    replyChannel: (instanceId) => `${prefix}dispatch:reply:${instanceId}`,
    replyBody: (requestId) => `${prefix}dispatch:reply-body:${requestId}`,
    workAvailableChannel: `${prefix}dispatch:work-available`,
  };
}

/** The api's side: ask for runs on behalf of a worker and wait for the answer. */
export class DispatchClient {
  private readonly instanceId = randomUUID();
  private readonly pending = new Map<string, (runs: DequeuedRun[]) => void>();
  /** withdrawn requests whose reply may still come, until the dispatcher's deadline plus grace */
  private readonly withdrawn = new Map<string, NodeJS.Timeout>();
  private subscribed: Promise<unknown> | undefined;

  constructor(
    private readonly redis: Redis,
    /** a connection of its own: it is put in subscriber mode */
    private readonly subscriber: Redis,
    private readonly keys: DispatchRelayKeys,
    private readonly logger: Logger,
    /** runs that reached a request after its worker withdrew it */
    private readonly onUndelivered: (runs: DequeuedRun[]) => Promise<void> = async () => undefined,
  ) {}

  private ensureSubscribed(): Promise<unknown> {
    this.subscribed ??= (async () => {
      this.subscriber.on("message", (_channel: string, message: string) => {
        const parsed = dispatchReplyMessageSchema.safeParse(JSON.parse(message));
        if (!parsed.success) return this.logger.warn({ event: "dispatch:bad-reply" }, "unreadable dispatch reply");
        if ("runs" in parsed.data) return this.deliver(parsed.data);
        this.fetchStored(parsed.data.requestId).catch((error: unknown) => {
          this.logger.error({ event: "dispatch:reply-fetch-failed", err: error }, "fetching a stored dispatch reply failed; the heartbeat monitor requeues its runs");
        });
      });
      await this.subscriber.subscribe(this.keys.replyChannel(this.instanceId));
    })();
    return this.subscribed;
  }

  /**
   * Asks a dispatcher for up to `request.maxRuns` runs, waiting up to `waitMs`. When `signal`
   * aborts (the worker went away), resolves with no runs and withdraws the request.
   */
  async requestRuns(
    request: Omit<DispatchRequest, "requestId" | "replyChannel" | "deadline">,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<DequeuedRun[]> {
    await this.ensureSubscribed();
    const requestId = randomUUID();
    const message: DispatchRequest = {
      ...request,
      requestId,
      replyChannel: this.keys.replyChannel(this.instanceId),
      deadline: Date.now() + waitMs,
    };
    // The dispatcher answers by the deadline; the grace covers the trip back.
    const graceMs = 2_000;
    return new Promise<DequeuedRun[]>((resolve, reject) => {
      const timer = setTimeout(() => finish([]), waitMs + graceMs);
      const finish = (runs: DequeuedRun[]) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", withdraw);
        this.pending.delete(requestId);
        resolve(runs);
      };
      const withdraw = () => {
        finish([]);
        const openForMs = message.deadline - Date.now() + graceMs;
        if (openForMs <= 0) return;
        this.withdrawn.set(requestId, setTimeout(() => this.withdrawn.delete(requestId), openForMs));
        const withdrawal: DispatchWithdrawal = { requestId, openForMs };
        this.redis.publish(this.keys.withdrawnChannel, JSON.stringify(withdrawal)).catch((error: unknown) => {
          this.logger.warn({ event: "dispatch:withdraw-failed", err: error }, "withdrawing a dispatch request failed");
        });
      };
      if (signal?.aborted) return withdraw();
      signal?.addEventListener("abort", withdraw, { once: true });
      this.pending.set(requestId, finish);
      this.redis.rpush(this.keys.requests, JSON.stringify(message)).catch((error: unknown) => {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(error);
      });
    });
  }

  private deliver({ requestId, runs }: DispatchReply): void {
    if (this.withdrawn.has(requestId)) {
      clearTimeout(this.withdrawn.get(requestId));
      this.withdrawn.delete(requestId);
      if (runs.length > 0) this.handBack(runs);
      return;
    }
    this.pending.get(requestId)?.(runs);
  }

  private async fetchStored(requestId: string): Promise<void> {
    const stored = await this.redis.getdel(this.keys.replyBody(requestId));
    const reply = stored === null ? undefined : dispatchReplySchema.safeParse(JSON.parse(stored));
    if (!reply?.success) return this.logger.warn({ event: "dispatch:bad-reply", requestId }, "a stored dispatch reply is missing or unreadable");
    this.deliver(reply.data);
  }

  private handBack(runs: DequeuedRun[]): void {
    this.logger.info({ event: "dispatch:undelivered", runIds: runs.map((run) => run.runId) }, "runs reached a withdrawn request; queueing them again");
    this.onUndelivered(runs).catch((error: unknown) => {
      this.logger.error({ event: "dispatch:hand-back-failed", err: error }, "queueing undelivered runs again failed; the heartbeat monitor will");
    });
  }

  async close(): Promise<void> {
    for (const finish of this.pending.values()) finish([]);
    for (const timer of this.withdrawn.values()) clearTimeout(timer);
    this.withdrawn.clear();
    await this.subscriber.unsubscribe().catch(() => undefined);
  }
}

/**
 * Sends the dispatcher's answer to `request` to the api instance waiting for it: by pub/sub, or,
 * past inlineReplyLimitBytes, stored under a key the announcement points to.
 */
export async function sendDispatchReply(redis: Redis, keys: DispatchRelayKeys, request: Pick<DispatchRequest, "requestId" | "replyChannel">, runs: DequeuedRun[]): Promise<void> {
  const { requestId, replyChannel } = request;
  const reply = JSON.stringify({ requestId, runs } satisfies DispatchReply);
  if (Buffer.byteLength(reply) <= inlineReplyLimitBytes) {
    await redis.publish(replyChannel, reply);
    return;
  }
  await redis.set(keys.replyBody(requestId), reply, "PX", storedReplyTtlMs);
  await redis.publish(replyChannel, JSON.stringify({ requestId, stored: true }));
}

const unsentAnnouncements = new WeakMap<Redis, Map<string, Promise<void>>>();

/**
 * Announce that runs may be dequeueable (after an enqueue, an ack, a limit change). The
 * announcements made in one turn of the event loop (a finalizer finishing many runs) go out as
 * one: each caller's change is committed before it asks, and the one message is sent after.
 */
export function publishWorkAvailable(redis: Redis, keys: DispatchRelayKeys): Promise<void> {
  let unsent = unsentAnnouncements.get(redis);
  if (unsent === undefined) {
    unsent = new Map();
    unsentAnnouncements.set(redis, unsent);
  }
  const channel = keys.workAvailableChannel;
  const pending = unsent.get(channel);
  if (pending) return pending;
  const announcement = new Promise<void>((resolve, reject) => {
    setImmediate(() => {
      unsent.delete(channel);
      redis.publish(channel, "1").then(() => resolve(), reject);
    });
  });
  unsent.set(channel, announcement);
  return announcement;
}
