import { z } from "zod";
import { ScriptCode, errorFromScriptCode } from "./codes.ts";
import { ackScript } from "./commands/ack.ts";
import { ackManyScript } from "./commands/ackMany.ts";
import { type CommandContext, type EnvState, isCluster, type RedisClient } from "./commands/context.ts";
import { deadLettersScript } from "./commands/deadLetters.ts";
import { dequeueIndexedScript, dequeueScript } from "./commands/dequeue.ts";
import { type EnqueueItem, enqueueScript } from "./commands/enqueue.ts";
import { explainScript } from "./commands/explain.ts";
import { extendScript } from "./commands/extend.ts";
import { nackScript } from "./commands/nack.ts";
import { reacquireScript } from "./commands/reacquire.ts";
import { reclaimScript } from "./commands/reclaim.ts";
import { redriveScript } from "./commands/redrive.ts";
import { releaseScript } from "./commands/release.ts";
import { removeScript } from "./commands/remove.ts";
import { restoreInFlightScript } from "./commands/restoreInFlight.ts";
import { setConcurrencyLimitScript } from "./commands/setConcurrencyLimit.ts";
import { setPausedScript } from "./commands/setPaused.ts";
import { setRateLimitScript } from "./commands/setRateLimit.ts";
import type { ShardUpdate } from "./commands/shardUpdate.ts";
import { statsScript } from "./commands/stats.ts";
import { RunQueueError } from "./errors.ts";
import type { EnvCandidate } from "./commands/shardPeek.ts";
import { planShares } from "./fairPlan.ts";
import { decodeName, RunQueueKeys } from "./keys.ts";
import { RunLocator } from "./locator.ts";
import { runQueueScripts } from "./scriptLoader.ts";
import { ShardIndex } from "./shardIndex.ts";
import { TickBatch } from "./tickBatch.ts";
import {
  type DeadLetter,
  type DequeuedMessage,
  type EnqueueMessage,
  type EnqueueResult,
  type Explanation,
  type Logger,
  type QueueStats,
  type ReacquireResult,
  type ReclaimResult,
  enqueueMessageSchema,
  envIdSchema,
  limitSchema,
  queueNameSchema,
} from "./types.ts";

export interface RunQueueOptions {
  /** An ioredis `Redis` or `Cluster`; the queue defines its scripts on it and never disconnects it. */
  redis: RedisClient;
  /** Prefix of every key (no `{` or `}`); tests and tenants of one Redis use different prefixes. */
  keyPrefix: string;
  /**
   * Number of keys the index of runnable envs is spread over (default 1). Fixed for a deployment:
   * on a Redis Cluster, use about twice the number of masters from the start.
   */
  shards?: number;
  /** How long a dequeued run may stay in flight without ack/nack/extend (default 5 minutes). */
  visibilityTimeoutMs?: number;
  /** Nacks and reclaims a run may take; one more moves it to the dead-letter set (default 10). */
  maxNackAttempts?: number;
  logger?: Logger;
  /** The time source in ms (default Date.now); all callers of one queue should agree on it. */
  clock?: () => number;
  /**
   * Called when an enqueue has put new or requeued runs in their envs' queues, with those envs:
   * the moment to wake consumers waiting for work. It runs once the env scripts answered, right
   * after the index update is sent and before that is answered, so a wake-up it sends costs no
   * round trip of its own. A consumer that dequeues from those envs (`envIds`) finds the runs; on
   * a single Redis a command sent from here on the queue's connection is applied after the index
   * update too, so any dequeue finds them (in a cluster the index may land a moment later).
   * Errors it throws are logged.
   */
  onEnqueued?: (envIds: readonly string[]) => void;
}

const optionsSchema = z.object({
  keyPrefix: z.string(),
  shards: z.number().int().min(1).max(1024).default(1),
  visibilityTimeoutMs: z.number().int().positive().default(5 * 60_000),
  maxNackAttempts: z.number().int().nonnegative().default(10),
});

// Built once: a zod schema is costly to build, and dequeue and extend validate on every call.
const countSchema = z.number().int().min(0);
const positiveIntSchema = z.number().int().positive();

/** Runs of one env per enqueue script call: big enough to amortise the call, short enough not to stall Redis. */
const ENQUEUE_CHUNK = 500;
/** Runs of one env per ackMany script call, for the same reason. */
const ACK_CHUNK = 500;
/** Envs whose deadline passed, per shard read, and expired runs per env script, in reclaimExpired(). */
const RECLAIM_ENVS = 100;
const RECLAIM_RUNS = 500;
/**
 * A dequeue limited to `envIds` that asked every one of them for runs and got less than it asked
 * from each: none has anything more runnable now, so another round would only ask again.
 */
function ranDry(envIds: readonly string[], candidates: readonly EnvCandidate[], plan: ReadonlyMap<EnvCandidate, number>, taken: readonly { messages: unknown[] }[]): boolean {
  if (candidates.length !== new Set(envIds).size || plan.size !== candidates.length) return false;
  return [...plan.values()].every((count, i) => taken[i]!.messages.length < count);
}

/** Dequeue rounds per call: a later round serves what stale candidates of an earlier one could not. */
const DEQUEUE_ROUNDS = 3;

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new RunQueueError("INVALID_ARGUMENT", `${what}: ${parsed.error.message}`, { cause: parsed.error });
  }
  return parsed.data;
}

/**
 * What ack, nack, release, extend and remove take besides the run id. `envId` is a hint: the env
 * the caller knows the run belongs to (the engine always does), which saves the locator read when
 * this instance has not seen the run. A wrong hint costs that read and nothing else: a run that is
 * not in the hinted env is looked up by id as without a hint.
 */
export interface RunRef {
  envId?: string;
}

function isNotFound(error: unknown): boolean {
  return error instanceof RunQueueError && error.code === "RUN_NOT_FOUND";
}

/**
 * A fair, limit-exact concurrency queue of run ids on Redis (or Redis Cluster). Every operation on
 * an env is one Lua function on that env's keys; the index of runnable envs is updated right after.
 * See the package README for the guarantees, the key layout and the algorithms.
 */
export class RunQueue {
  /** The Redis function library this version's operations run in, as FUNCTION LIST names it. */
  static get functionLibrary(): string {
    return runQueueScripts().library.name;
  }

  readonly keys: RunQueueKeys;
  readonly #ctx: CommandContext;
  readonly #shards: ShardIndex;
  readonly #locator: RunLocator;
  readonly #visibilityTimeoutMs: number;
  readonly #maxNackAttempts: number;
  readonly #logger: Logger | undefined;
  readonly #clock: () => number;
  readonly #onEnqueued: ((envIds: readonly string[]) => void) | undefined;
  readonly #stop = new AbortController();
  readonly #acks = new TickBatch<{ runId: string; hint: string | undefined }, boolean>((runs) => this.#ackAll(runs));
  #reclaimer: Promise<void> | undefined;

  constructor(options: RunQueueOptions) {
    const parsed = validate(optionsSchema, options, "RunQueue options");
    const clientPrefix = (options.redis.options as { keyPrefix?: string } | undefined)?.keyPrefix;
    if (clientPrefix) {
      // Scripts build some keys themselves, which ioredis would not prefix: use keyPrefix here instead.
      throw new RunQueueError("INVALID_ARGUMENT", "the Redis client must not have its own keyPrefix; pass keyPrefix to RunQueue");
    }
    this.keys = new RunQueueKeys(parsed.keyPrefix, parsed.shards);
    const scripts = runQueueScripts();
    this.#ctx = { redis: options.redis, keys: this.keys, scripts };
    this.#shards = new ShardIndex(this.#ctx);
    this.#locator = new RunLocator(this.#ctx);
    this.#visibilityTimeoutMs = parsed.visibilityTimeoutMs;
    this.#maxNackAttempts = parsed.maxNackAttempts;
    this.#onEnqueued = options.onEnqueued;
    this.#logger = options.logger;
    this.#clock = options.clock ?? Date.now;
  }

  /** Queues a run; enqueuing a run id that is already queued or in flight changes nothing. */
  async enqueue(message: EnqueueMessage): Promise<EnqueueResult> {
    const [result] = await this.enqueueMany([message]);
    return result as EnqueueResult;
  }

  /**
   * Queues many runs with a few round trips: the locators in one burst, one script call per env
   * (per 500 runs), one index update per shard. Throws RUN_ENV_CONFLICT, before queuing anything,
   * if a run id is already known in another env.
   */
  async enqueueMany(messages: readonly EnqueueMessage[]): Promise<EnqueueResult[]> {
    this.#assertOpen();
    const now = this.#clock();
    const parsed = messages.map((message) => validate(enqueueMessageSchema, message, "enqueue"));
    const owners = await this.#locator.claim(parsed);
    const conflicts = parsed.filter((message, i) => owners[i] != null && owners[i] !== message.envId);
    if (conflicts.length > 0) {
      this.#logger?.warn({ runIds: conflicts.map((m) => m.runId) }, "run-queue:enqueue-conflict");
      throw new RunQueueError("RUN_ENV_CONFLICT", `run ids already belong to another environment: ${conflicts.map((m) => m.runId).join(", ")}`, {
        runId: conflicts[0]?.runId,
      });
    }
    const byEnv = new Map<string, { index: number; item: EnqueueItem }[]>();
    parsed.forEach((message, index) => {
      const item: EnqueueItem = {
        runId: message.runId,
        orgId: message.orgId,
        queue: message.queue,
        concurrencyKey: message.concurrencyKey === "" ? undefined : message.concurrencyKey,
        priority: message.priority ?? 0,
        availableAt: message.availableAt ?? now,
        attempt: message.attempt ?? 0,
      };
      const list = byEnv.get(message.envId);
      if (list) list.push({ index, item });
      else byEnv.set(message.envId, [{ index, item }]);
    });
    const results = new Array<EnqueueResult>(parsed.length);
    const updates: ShardUpdate[] = [];
    const calls: Promise<void>[] = [];
    for (const [envId, list] of byEnv) {
      for (let start = 0; start < list.length; start += ENQUEUE_CHUNK) {
        const chunk = list.slice(start, start + ENQUEUE_CHUNK);
        calls.push(
          enqueueScript(
            this.#ctx,
            envId,
            now,
            chunk.map((c) => c.item),
          ).then(({ state, results: codes }) => {
            chunk.forEach((c, i) => {
              results[c.index] = codes[i] as EnqueueResult;
              this.#locator.remember(c.item.runId, envId);
            });
            updates.push({ state, served: 0 });
          }),
        );
      }
    }
    await Promise.all(calls);
    const indexed = this.#shards.apply(updates.filter((update) => update.state.changed));
    const enqueuedEnvs = new Set(parsed.filter((message, i) => results[i] !== "exists").map((message) => message.envId));
    if (enqueuedEnvs.size > 0) this.#announceEnqueued([...enqueuedEnvs]);
    await indexed;
    return results;
  }

  #announceEnqueued(envIds: string[]): void {
    try {
      this.#onEnqueued?.(envIds);
    } catch (error) {
      this.#logger?.warn({ err: error, envIds }, "run-queue:on-enqueued-failed");
    }
  }

  /**
   * Takes up to `maxCount` runs, fairly across envs (and, inside each, across queues and
   * concurrency keys), within every limit. Each run is in flight until ack/nack/release or its
   * visibility deadline. `envIds` restricts the dequeue to those envs.
   */
  async dequeue(options: { consumerId: string; maxCount: number; envIds?: readonly string[] }): Promise<DequeuedMessage[]> {
    this.#assertOpen();
    const maxCount = validate(countSchema, options.maxCount, "dequeue maxCount");
    const envIds = options.envIds?.map((envId) => validate(envIdSchema, envId, "dequeue envIds"));
    if (envIds && new Set(envIds).size === 1) return this.#dequeueEnv(envIds[0]!, maxCount, options.consumerId);
    const out: DequeuedMessage[] = [];
    for (let round = 0; round < DEQUEUE_ROUNDS && out.length < maxCount; round++) {
      const now = this.#clock();
      const remaining = maxCount - out.length;
      const candidates = await this.#shards.peek(now, remaining, envIds);
      if (candidates.length === 0) break;
      const plan = planShares(candidates, remaining);
      const deadline = now + this.#visibilityTimeoutMs;
      const taken = await Promise.all(
        [...plan].map(async ([candidate, count]) => {
          const taken = await dequeueScript(this.#ctx, candidate.envId, now, count, deadline, options.consumerId);
          this.#shards.served(candidate.score + taken.messages.length);
          return taken;
        }),
      );
      // An unchanged state (ver 0) only carries the served count.
      await this.#shards.apply(
        taken.filter(({ state, messages }) => state.changed || messages.length > 0).map(({ state, messages }) => ({ state, served: messages.length })),
      );
      let got = 0;
      for (const { messages } of taken) {
        for (const message of messages) {
          this.#locator.remember(message.runId, message.envId);
          out.push(message);
        }
        got += messages.length;
      }
      if (got < remaining) {
        this.#logger?.debug({ round, asked: remaining, got, candidates: candidates.length }, "run-queue:dequeue-short");
      }
      if (envIds && ranDry(envIds, candidates, plan, taken)) break;
    }
    return out;
  }

  /**
   * dequeue() limited to one env (what a worker of that env asks for): no fair choice between
   * envs to make, so the env's script runs without asking the index first; the script itself
   * finds out whether the env has runnable work, serves as much as it allows, and its state
   * reaches the index as after any env script: in the same call on a single Redis, by a second
   * one on a cluster (where the env's keys and the index's are in different slots).
   */
  async #dequeueEnv(envId: string, maxCount: number, consumerId: string): Promise<DequeuedMessage[]> {
    const now = this.#clock();
    const deadline = now + this.#visibilityTimeoutMs;
    let messages: DequeuedMessage[];
    if (isCluster(this.#ctx.redis)) {
      const dequeued = await dequeueScript(this.#ctx, envId, now, maxCount, deadline, consumerId);
      messages = dequeued.messages;
      if (dequeued.state.changed || messages.length > 0) await this.#shards.apply([{ state: dequeued.state, served: messages.length }]);
    } else {
      messages = await dequeueIndexedScript(this.#ctx, envId, now, maxCount, deadline, consumerId, this.#shards.clockFloor);
    }
    for (const message of messages) this.#locator.remember(message.runId, envId);
    return messages;
  }

  /**
   * The run is done: forget it and free its slot. Returns false for an unknown run (e.g. acked twice).
   * The acks called within one tick are acked together, as one ackMany (see TickBatch).
   */
  async ack(runId: string, options: RunRef = {}): Promise<boolean> {
    this.#assertOpen();
    return this.#acks.add({ runId, hint: this.#hint(options) });
  }

  /**
   * ack() for many runs at once: `result[i]` is what `ack(runIds[i])` would return (false for an
   * unknown run, or for a run id listed twice: it is acked once). The runs are grouped by env, and
   * each env's runs are acked in one script call (per 500), which pays the per-env work once per
   * call instead of once per run; then one locator delete and one index update per shard. With
   * `envId`, every run is first looked for in that env (see RunRef).
   */
  async ackMany(runIds: readonly string[], options: RunRef = {}): Promise<boolean[]> {
    this.#assertOpen();
    const hint = this.#hint(options);
    const ids = runIds.map((runId) => validate(envIdSchema, runId, "ackMany runId"));
    return this.#ackAll(ids.map((runId) => ({ runId, hint })));
  }

  /** Acks runs, each first in its hinted or cached env, then the rest through the locator. */
  async #ackAll(runs: readonly { runId: string; hint: string | undefined }[]): Promise<boolean[]> {
    const ids = runs.map((run) => run.runId);
    const found = new Array<boolean>(ids.length).fill(false);
    const guessed = new Map<number, string>();
    const unknown: number[] = [];
    runs.forEach(({ runId, hint }, i) => {
      const envId = hint ?? this.#locator.cached(runId);
      if (envId === undefined) unknown.push(i);
      else guessed.set(i, envId);
    });
    // Runs acked whose locator the caller still has to delete (on a cluster; see ackManyScript).
    const acked: string[] = [];
    const states: EnvState[] = [];
    // Round 1: the runs whose env is known or guessed. Round 2: the rest, and every guess that
    // missed, through the locator (the env a run is in, if it still exists).
    const missed = await this.#ackGroups(ids, guessed, found, acked, states);
    const retry = [...unknown, ...missed];
    if (retry.length > 0) {
      const owners = await this.#locator.lookupMany(retry.map((i) => ids[i] as string));
      const located = new Map<number, string>();
      retry.forEach((i, n) => {
        const envId = owners[n];
        if (envId != null && envId !== guessed.get(i)) located.set(i, envId);
      });
      await this.#ackGroups(ids, located, found, acked, states);
    }
    await Promise.all([this.#locator.dropMany(acked), this.#shards.apply(states.filter((state) => state.changed).map((state) => ({ state, served: 0 })))]);
    return found;
  }

  /** Acks the runs `envOf` maps (index → env), one script call per env and chunk; returns the indexes not found there. */
  async #ackGroups(ids: readonly string[], envOf: ReadonlyMap<number, string>, found: boolean[], acked: string[], states: EnvState[]): Promise<number[]> {
    const byEnv = new Map<string, number[]>();
    for (const [i, envId] of envOf) {
      const list = byEnv.get(envId);
      if (list) list.push(i);
      else byEnv.set(envId, [i]);
    }
    const missed: number[] = [];
    const calls: Promise<void>[] = [];
    for (const [envId, list] of byEnv) {
      for (let start = 0; start < list.length; start += ACK_CHUNK) {
        const chunk = list.slice(start, start + ACK_CHUNK);
        calls.push(
          this.#ackInEnv(envId, chunk.map((i) => ids[i] as string)).then((result) => {
            states.push(result.state);
            chunk.forEach((i, n) => {
              if (result.found[n]) {
                found[i] = true;
                if (result.locatorsDropped) this.#locator.forget(ids[i] as string);
                else acked.push(ids[i] as string);
              } else {
                this.#locator.forget(ids[i] as string);
                missed.push(i);
              }
            });
          }),
        );
      }
    }
    await Promise.all(calls);
    return missed;
  }

  /** One env's runs acked in one script call: a single run takes ack-7, which defines fewer helpers than ackMany-6. */
  async #ackInEnv(envId: string, runIds: readonly string[]): Promise<{ state: EnvState; found: boolean[]; locatorsDropped: boolean }> {
    if (runIds.length === 1) {
      const { state, found, locatorDropped } = await ackScript(this.#ctx, envId, this.#clock(), runIds[0] as string);
      return { state, found: [found], locatorsDropped: locatorDropped };
    }
    return ackManyScript(this.#ctx, envId, this.#clock(), runIds);
  }

  /**
   * Gives an in-flight run back: queued again at `retryAt` (default now) with its attempt count up,
   * or dead-lettered past maxNackAttempts. Throws RUN_NOT_FOUND / RUN_NOT_IN_FLIGHT.
   */
  async nack(runId: string, options: { retryAt?: number } & RunRef = {}): Promise<{ deadLettered: boolean; attempt: number }> {
    this.#assertOpen();
    const { state, deadLettered, attempt } = await this.#withRun(runId, this.#hint(options), (envId) => {
      const now = this.#clock();
      return nackScript(this.#ctx, envId, now, runId, options.retryAt ?? now, this.#maxNackAttempts);
    });
    await this.#report(state);
    return { deadLettered, attempt };
  }

  /** An in-flight run suspends: its slot is freed, the run stays known. Throws RUN_NOT_FOUND / RUN_NOT_IN_FLIGHT. */
  async release(runId: string, options: RunRef = {}): Promise<void> {
    this.#assertOpen();
    const { state } = await this.#withRun(runId, this.#hint(options), (envId) => releaseScript(this.#ctx, envId, this.#clock(), runId));
    await this.#report(state);
  }

  /**
   * A released run resumes in place: it takes a slot again if every limit allows it now, else the
   * result names the limit in the way (the run stays released; enqueue it to wait for its turn).
   * Throws RUN_NOT_FOUND / RUN_NOT_RELEASED.
   */
  async reacquire(runId: string): Promise<ReacquireResult> {
    this.#assertOpen();
    const { state, result } = await this.#withRun(runId, undefined, (envId) => {
      const now = this.#clock();
      return reacquireScript(this.#ctx, envId, now, runId, now + this.#visibilityTimeoutMs);
    });
    await this.#report(state);
    return result;
  }

  /**
   * Puts a run the queue does not know straight into flight, holding its slot, as if `consumerId`
   * had dequeued it: for rebuilding the queue from Postgres after Redis lost its data, for runs a
   * worker still has. Limits are not checked (the run already runs). Returns false, changing
   * nothing, when the run is already known in any state. Throws RUN_ENV_CONFLICT for a run id known
   * in another env.
   */
  async restoreInFlight(message: Omit<EnqueueMessage, "availableAt"> & { consumerId: string }): Promise<boolean> {
    this.#assertOpen();
    const parsed = validate(enqueueMessageSchema, message, "restoreInFlight");
    const consumerId = validate(envIdSchema, message.consumerId, "restoreInFlight consumerId");
    const [owner] = await this.#locator.claim([parsed]);
    if (owner != null && owner !== parsed.envId) {
      throw new RunQueueError("RUN_ENV_CONFLICT", `run id already belongs to another environment: ${parsed.runId}`, { runId: parsed.runId });
    }
    const now = this.#clock();
    const { state, restored } = await restoreInFlightScript(
      this.#ctx,
      parsed.envId,
      now,
      {
        runId: parsed.runId,
        orgId: parsed.orgId,
        queue: parsed.queue,
        concurrencyKey: parsed.concurrencyKey === "" ? undefined : parsed.concurrencyKey,
        priority: parsed.priority ?? 0,
        attempt: parsed.attempt ?? 0,
      },
      consumerId,
      now + this.#visibilityTimeoutMs,
    );
    this.#locator.remember(parsed.runId, parsed.envId);
    await this.#report(state);
    return restored;
  }

  /** Removes a run that is not in flight (cancelled or expired). False if unknown; throws RUN_IN_FLIGHT. */
  async remove(runId: string, options: RunRef = {}): Promise<boolean> {
    this.#assertOpen();
    const hint = this.#hint(options);
    try {
      const { state } = await this.#withRun(runId, hint, async (envId) => {
        const result = await removeScript(this.#ctx, envId, this.#clock(), runId);
        if (!result.found) throw errorFromScriptCode(ScriptCode.RUN_NOT_FOUND, runId, "remove");
        return result;
      });
      await Promise.all([this.#locator.drop(runId), this.#report(state)]);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /** The consumer of an in-flight run is alive: its deadline moves to now + the timeout. Returns the new deadline. */
  async extend(runId: string, options: { visibilityTimeoutMs?: number } & RunRef = {}): Promise<number> {
    this.#assertOpen();
    const now = this.#clock();
    const deadline = now + validate(positiveIntSchema, options.visibilityTimeoutMs ?? this.#visibilityTimeoutMs, "visibilityTimeoutMs");
    const { state } = await this.#withRun(runId, this.#hint(options), (envId) => extendScript(this.#ctx, envId, now, runId, deadline));
    await this.#report(state);
    return deadline;
  }

  /**
   * One pass of reclaim: in-flight runs whose deadline passed are queued again (attempt + 1) or
   * dead-lettered. Visits only envs whose earliest deadline passed (a per-shard index), never all.
   */
  async reclaimExpired(): Promise<ReclaimResult> {
    this.#assertOpen();
    const total: ReclaimResult = { requeued: 0, deadLettered: 0, runIds: [] };
    const now = this.#clock();
    await Promise.all(
      Array.from({ length: this.#shards.shardCount }, async (_, shard) => {
        // Bounded, so one pass cannot run forever while consumers keep expiring.
        for (let pass = 0; pass < 10; pass++) {
          const envIds = await this.#shards.expiredEnvs(shard, now, RECLAIM_ENVS);
          if (envIds.length === 0) return;
          const results = await Promise.all(
            envIds.map((envId) => reclaimScript(this.#ctx, envId, now, RECLAIM_RUNS, this.#maxNackAttempts)),
          );
          await this.#shards.apply(results.filter(({ state }) => state.changed).map(({ state }) => ({ state, served: 0 })));
          for (const { result } of results) {
            total.requeued += result.requeued;
            total.deadLettered += result.deadLettered;
            total.runIds.push(...result.runIds);
          }
          if (envIds.length < RECLAIM_ENVS && results.every(({ result }) => result.runIds.length < RECLAIM_RUNS)) return;
        }
      }),
    );
    if (total.runIds.length > 0) this.#logger?.info({ ...total, runIds: total.runIds.slice(0, 20) }, "run-queue:reclaimed");
    return total;
  }

  /** Runs reclaimExpired() every `intervalMs` until close() or the signal aborts. */
  startReclaimer(options: { intervalMs: number; signal?: AbortSignal }): void {
    this.#assertOpen();
    if (this.#reclaimer) return;
    const signals = [this.#stop.signal, ...(options.signal ? [options.signal] : [])];
    const stopped = AbortSignal.any(signals);
    this.#reclaimer = (async () => {
      while (!stopped.aborted) {
        try {
          await this.reclaimExpired();
        } catch (error) {
          if (stopped.aborted) return;
          this.#logger?.error({ err: error }, "run-queue:reclaim-failed");
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.intervalMs);
          stopped.addEventListener("abort", () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    })();
  }

  /** Where a run is and why it is not being dequeued (see Explanation). */
  async explain(runId: string): Promise<Explanation> {
    this.#assertOpen();
    try {
      return await this.#withRun(runId, undefined, async (envId) => {
        const explanation = await explainScript(this.#ctx, envId, this.#clock(), runId);
        if (explanation.state === "unknown") throw errorFromScriptCode(ScriptCode.RUN_NOT_FOUND, runId, "explain");
        return explanation;
      });
    } catch (error) {
      if (isNotFound(error)) return { runId, state: "unknown" };
      throw error;
    }
  }

  /** Sets the env's limit (no `queue`) or a queue's limit, which each concurrency key gets a copy of; null clears it. */
  async setConcurrencyLimit(options: { envId: string; queue?: string; limit: number | null }): Promise<void> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    const queue = options.queue === undefined ? undefined : validate(queueNameSchema, options.queue, "queue");
    const limit = validate(limitSchema, options.limit, "limit");
    const { state } = await setConcurrencyLimitScript(this.#ctx, envId, this.#clock(), queue, limit);
    await this.#report(state);
  }

  /**
   * Sets a queue's rate: at most `limit` dequeues per `periodMs` (GCRA, burst = limit), for the
   * whole queue or, with `perKey`, for each concurrency key; `limit: null` clears it.
   */
  async setRateLimit(options: { envId: string; queue: string; limit: number | null; periodMs?: number; perKey?: boolean }): Promise<void> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    const queue = validate(queueNameSchema, options.queue, "queue");
    const rate =
      options.limit === null
        ? null
        : {
            limit: validate(positiveIntSchema, options.limit, "rate limit"),
            periodMs: validate(positiveIntSchema, options.periodMs, "rate periodMs"),
            perKey: options.perKey ?? false,
          };
    const { state } = await setRateLimitScript(this.#ctx, envId, this.#clock(), queue, rate);
    await this.#report(state);
  }

  async pause(options: { envId: string; queue: string }): Promise<void> {
    await this.#setPaused(options, true);
  }

  async resume(options: { envId: string; queue: string }): Promise<void> {
    await this.#setPaused(options, false);
  }

  /** Queued, in flight and limit of an env, a queue, or one concurrency key of a queue; O(1). */
  async stats(options: { envId: string; queue?: string; concurrencyKey?: string }): Promise<QueueStats> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    if (options.concurrencyKey !== undefined && options.queue === undefined) {
      throw new RunQueueError("INVALID_ARGUMENT", "stats: a concurrencyKey needs its queue");
    }
    return statsScript(this.#ctx, envId, options.queue, options.concurrencyKey);
  }

  /** A page of an env's dead-lettered runs, oldest first. */
  async deadLetters(options: { envId: string; offset?: number; count?: number }): Promise<DeadLetter[]> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    return deadLettersScript(this.#ctx, envId, options.offset ?? 0, options.count ?? 100);
  }

  /** Queues a dead-lettered run again with a fresh attempt count. Throws RUN_NOT_FOUND / RUN_NOT_DEAD_LETTERED. */
  async redrive(runId: string): Promise<void> {
    this.#assertOpen();
    const { state } = await this.#withRun(runId, undefined, (envId) => redriveScript(this.#ctx, envId, this.#clock(), runId));
    await this.#report(state);
  }

  /** A page of an env's in-flight run ids with their deadlines, earliest deadline first (for reconciliation). */
  async inFlight(options: { envId: string; offset?: number; count?: number }): Promise<{ runId: string; deadline: number }[]> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    const offset = options.offset ?? 0;
    const flat = await this.#ctx.redis.zrange(this.keys.envKeys(envId).inflight, offset, offset + (options.count ?? 100) - 1, "WITHSCORES");
    const out: { runId: string; deadline: number }[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      out.push({ runId: decodeName(flat[i] as string), deadline: Number(flat[i + 1]) });
    }
    return out;
  }

  /**
   * True when the caller should rebuild the queue from its source of truth: the queue has no record
   * of having been built (a new Redis, or one that lost its data) and no other caller holds the
   * rebuild for the next `leaseMs`. The caller rebuilds, then calls markBuilt(); if it dies first,
   * the lease runs out and another caller gets it.
   */
  async claimRebuild(leaseMs: number): Promise<boolean> {
    this.#assertOpen();
    const ms = validate(positiveIntSchema, leaseMs, "leaseMs");
    return (await this.#ctx.redis.set(this.keys.builtMarker(), "rebuilding", "PX", ms, "NX")) === "OK";
  }

  /** Records that the queue was rebuilt (see claimRebuild). */
  async markBuilt(): Promise<void> {
    this.#assertOpen();
    await this.#ctx.redis.set(this.keys.builtMarker(), "built");
  }

  /** Stops the reclaimer; later calls throw CLOSED. The Redis client is the caller's and stays open. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#reclaimer;
  }

  async #setPaused(options: { envId: string; queue: string }, paused: boolean): Promise<void> {
    this.#assertOpen();
    const envId = validate(envIdSchema, options.envId, "envId");
    const queue = validate(queueNameSchema, options.queue, "queue");
    const { state } = await setPausedScript(this.#ctx, envId, this.#clock(), queue, paused);
    await this.#report(state);
  }

  #hint(options: RunRef): string | undefined {
    return options.envId === undefined ? undefined : validate(envIdSchema, options.envId, "envId");
  }

  /**
   * Runs an env script for a run known only by id: first in the hinted or cached env, then, if the
   * run is not there, in the env its locator names.
   */
  async #withRun<R>(runId: string, hint: string | undefined, run: (envId: string) => Promise<R>): Promise<R> {
    const cached = hint ?? this.#locator.cached(runId);
    if (cached !== undefined) {
      try {
        return await run(cached);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        this.#locator.forget(runId);
      }
    }
    const envId = await this.#locator.lookup(runId);
    if (envId === null || envId === cached) throw errorFromScriptCode(ScriptCode.RUN_NOT_FOUND, runId, "locate");
    return run(envId);
  }

  /** Sends an env's new state to the index when it changed. */
  async #report(state: EnvState): Promise<void> {
    if (state.changed) await this.#shards.apply([{ state, served: 0 }]);
  }

  #assertOpen(): void {
    if (this.#stop.signal.aborted) throw new RunQueueError("CLOSED", "the run queue is closed");
  }
}
