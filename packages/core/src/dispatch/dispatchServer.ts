import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { DequeuedRun } from "../schemas/workerProtocol.ts";
import { dispatchRequestSchema, dispatchWithdrawalSchema, sendDispatchReply, type DispatchRelayKeys, type DispatchRequest } from "./dispatchRelay.ts";

export interface DispatchServerOptions {
  /** a connection of its own: BLPOP blocks it */
  blocking: Redis;
  /** a connection of its own: put in subscriber mode */
  subscriber: Redis;
  /** for replies */
  redis: Redis;
  keys: DispatchRelayKeys;
  logger: Logger;
  /** dequeues up to request.maxRuns runs for the request's worker; [] when none is ready */
  dequeue(request: DispatchRequest): Promise<DequeuedRun[]>;
  /**
   * How often parked requests try again without a wake-up. Wake-ups cover new and released work;
   * this covers work that becomes ready by time alone (a retry's backoff, a delayed availability).
   */
  retryIntervalMs?: number;
  /**
   * Requests served at once (default 8). One at a time, a busy engine's workers would queue behind
   * each other's dequeue and its writes; served together, their runs share statements.
   */
  concurrency?: number;
}

/**
 * The dispatcher's side of the relay: pops worker requests, dequeues for them, replies. A request
 * that finds nothing waits (parked) until work is announced or its deadline passes, so an idle
 * engine starts a new run as soon as it is triggered, without polling the queue.
 */
export class DispatchServer {
  private readonly parked = new Map<string, DispatchRequest>();
  private running = false;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retrying = false;
  private retryAgain = false;
  private readonly concurrency: number;
  private serving = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** withdrawn requests, until they are past their deadline */
  private readonly withdrawn = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: DispatchServerOptions) {
    this.concurrency = options.concurrency ?? 8;
  }

  async start(): Promise<void> {
    this.running = true;
    const { subscriber, keys } = this.options;
    subscriber.on("message", (channel: string, message: string) => {
      if (channel === keys.workAvailableChannel) void this.retryParked();
      else if (channel === keys.withdrawnChannel) this.withdraw(message);
    });
    await subscriber.subscribe(keys.workAvailableChannel, keys.withdrawnChannel);
    this.timer = setInterval(() => void this.retryParked(), this.options.retryIntervalMs ?? 200);
    this.loop = this.popRequests();
  }

  /** Requests waiting for work right now (for metrics and tests). */
  parkedCount(): number {
    return this.parked.size;
  }

  private async popRequests(): Promise<void> {
    const { blocking, keys, logger } = this.options;
    while (this.running) {
      // a request is popped only when it can be served at once
      await this.acquireSlot();
      let request: DispatchRequest | undefined;
      try {
        // A short block timeout lets stop() end the loop promptly.
        const popped = await blocking.blpop(keys.requests, 0.25);
        const parsed = popped ? dispatchRequestSchema.safeParse(JSON.parse(popped[1])) : undefined;
        if (parsed?.success === false) logger.warn({ event: "dispatch:bad-request" }, "unreadable dispatch request dropped");
        request = parsed?.data;
      } catch (error) {
        this.releaseSlot();
        if (!this.running) return;
        logger.error({ event: "dispatch:pop-failed", err: error }, "popping dispatch requests failed; retrying");
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (request === undefined) this.releaseSlot();
      else this.track(this.serve(request).finally(() => this.releaseSlot()));
    }
  }

  private async acquireSlot(): Promise<void> {
    while (this.serving >= this.concurrency) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.serving += 1;
  }

  private releaseSlot(): void {
    this.serving -= 1;
    this.slotWaiters.shift()?.();
  }

  private track(serving: Promise<void>): void {
    const tracked = serving.catch((error: unknown) => {
      this.options.logger.error({ event: "dispatch:serve-failed", err: error }, "answering a dispatch request failed");
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
  }

  /**
   * Tries one request; replies when it got runs or its deadline passed, parks it otherwise. A
   * withdrawn request is dropped unanswered.
   */
  private async serve(request: DispatchRequest): Promise<void> {
    if (Date.now() >= request.deadline) return this.reply(request, []);
    if (this.withdrawn.has(request.requestId)) return;
    let runs: DequeuedRun[] = [];
    try {
      runs = await this.options.dequeue(request);
    } catch (error) {
      this.options.logger.error({ event: "dispatch:dequeue-failed", err: error, workerId: request.workerId }, "dequeue for a worker failed");
    }
    if (runs.length > 0) return this.reply(request, runs);
    this.parked.set(request.requestId, request);
  }

  private async retryParked(): Promise<void> {
    // One pass at a time; a wake-up during a pass earns exactly one more pass.
    if (this.retrying) {
      this.retryAgain = true;
      return;
    }
    this.retrying = true;
    try {
      do {
        this.retryAgain = false;
        const waiting = [...this.parked.values()];
        this.parked.clear();
        // Environments side by side; inside one, a request at a time: one new run wakes every
        // idle worker's request, and the first to ask should not share Redis with the others.
        await Promise.all(
          [...groupByEnvironment(waiting).values()].map(async (requests) => {
            for (const request of requests) {
              await this.acquireSlot();
              const serving = this.serve(request).finally(() => this.releaseSlot());
              this.track(serving);
              await serving.catch(() => undefined);
            }
          }),
        );
      } while (this.retryAgain && this.running);
    } finally {
      this.retrying = false;
    }
  }

  /** A request whose worker went away: dropped if parked, and not served while it may still be popped. */
  private withdraw(message: string): void {
    const parsed = dispatchWithdrawalSchema.safeParse(JSON.parse(message));
    if (!parsed.success) return;
    const { requestId, openForMs } = parsed.data;
    this.parked.delete(requestId);
    clearTimeout(this.withdrawn.get(requestId));
    this.withdrawn.set(
      requestId,
      setTimeout(() => this.withdrawn.delete(requestId), openForMs),
    );
  }

  private async reply(request: DispatchRequest, runs: DequeuedRun[]): Promise<void> {
    await sendDispatchReply(this.options.redis, this.options.keys, request, runs);
  }

  /** Stops taking requests and answers every parked one with no runs. */
  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    for (const timer of this.withdrawn.values()) clearTimeout(timer);
    this.withdrawn.clear();
    await this.loop;
    await Promise.all(this.inFlight);
    const waiting = [...this.parked.values()];
    this.parked.clear();
    await Promise.all(waiting.map((request) => this.reply(request, [])));
    await this.options.subscriber.unsubscribe().catch(() => undefined);
  }
}

function groupByEnvironment(requests: readonly DispatchRequest[]): Map<string, DispatchRequest[]> {
  const byEnvironment = new Map<string, DispatchRequest[]>();
  for (const request of requests) {
    const list = byEnvironment.get(request.environmentId);
    if (list) list.push(request);
    else byEnvironment.set(request.environmentId, [request]);
  }
  return byEnvironment;
}
