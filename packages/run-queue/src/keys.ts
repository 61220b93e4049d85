/**
 * The one key producer of the run queue. Every Redis key the TypeScript side touches is built here;
 * the Lua side builds the per-queue and per-lane keys it discovers while running with
 * `lua/includes/keys.lua`, which must agree with `queueKey`/`laneKey` below (tests/keys.test.ts
 * proves it against real scripts).
 *
 * Layout (P = keyPrefix, E = encoded env id, Q = encoded queue, L = encoded concurrency key or ""):
 *   P{env:E}:meta                 hash   env config and counters (limit, ver, vclock, queued, sig)
 *   P{env:E}:queues               zset   runnable queues → virtual time
 *   P{env:E}:timers               zset   "q:Q" / "l:Q:L" → time the queue/lane may become runnable
 *   P{env:E}:qvt                  hash   queue → virtual time saved while it is not runnable
 *   P{env:E}:inflight             zset   run id → visibility deadline (the env's held slots)
 *   P{env:E}:dead                 zset   run id → time it was dead-lettered
 *   P{env:E}:run:<runId>          hash   one run (see README)
 *   P{env:E}:q:Q:meta             hash   queue config and counters (limit, paused, rate, tat, vclock, queued)
 *   P{env:E}:q:Q:lanes            zset   runnable lanes of the queue → virtual time
 *   P{env:E}:q:Q:lvt|ltat         hash   lane → saved virtual time | lane → GCRA theoretical arrival time
 *   P{env:E}:q:Q:blocked          set    lanes with queued runs that are at their concurrency limit
 *   P{env:E}:q:Q:inflight         set    run ids of the queue in flight (all lanes)
 *   P{env:E}:q:Q:l:L:ready|delayed zset  queued runs by priority score | by availableAt (future ones)
 *   P{env:E}:q:Q:l:L:inflight     set    run ids of the lane in flight
 *   P{shard:i}:envs|timers|inflight zset envs with runnable work | with future work | with runs in flight
 *   P{shard:i}:ver|vt             hash   env → last applied state version | saved virtual time
 *   P{shard:i}:clock              string the shard's virtual clock
 *   Ploc:<runId>                  string run id → env id (the locator; lives in its own slot)
 *   Pbuilt                        string "built" once the queue was rebuilt from its source of truth,
 *                                        "rebuilding" (with an expiry) while a caller does it
 */

import { RunQueueError } from "./errors.ts";

/** Parts of key names, in one place. */
export const KEY_PARTS = {
  env: "env",
  shard: "shard",
  locator: "loc",
  run: "run",
  queue: "q",
  lane: "l",
  envMeta: "meta",
  envQueues: "queues",
  envTimers: "timers",
  envQueueVt: "qvt",
  envInflight: "inflight",
  envDead: "dead",
  shardEnvs: "envs",
  shardTimers: "timers",
  shardInflight: "inflight",
  shardVer: "ver",
  shardVt: "vt",
  shardClock: "clock",
  built: "built",
} as const;

export type QueuePart = "meta" | "lanes" | "lvt" | "ltat" | "blocked" | "inflight";
export type LanePart = "ready" | "delayed" | "inflight";

const ESCAPED = /[%:{}]/g;

/**
 * Makes a name safe inside a key: `:` separates key parts and `{`/`}` delimit the cluster hash tag,
 * so both are percent-escaped (and `%` itself, to stay reversible).
 */
export function encodeName(name: string): string {
  return name.replace(ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function decodeName(encoded: string): string {
  return decodeURIComponent(encoded);
}

/** The env keys every env-level script receives as KEYS[1..6], in this order. */
export interface EnvKeys {
  meta: string;
  queues: string;
  timers: string;
  qvt: string;
  inflight: string;
  dead: string;
}

export interface ShardKeys {
  envs: string;
  timers: string;
  inflight: string;
  ver: string;
  vt: string;
  clock: string;
}

/** FNV-1a, 32 bit: stable across processes and versions, which a shard assignment must be. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class RunQueueKeys {
  constructor(
    readonly prefix: string,
    readonly shardCount: number,
  ) {
    if (/[{}]/.test(prefix)) {
      throw new RunQueueError("INVALID_ARGUMENT", "keyPrefix must not contain '{' or '}': the run queue places its own cluster hash tags");
    }
  }

  /** Every key of an env starts with this; its hash tag puts them all in one cluster slot. */
  envBase(envId: string): string {
    return `${this.prefix}{${KEY_PARTS.env}:${encodeName(envId)}}:`;
  }

  envKeys(envId: string): EnvKeys {
    const base = this.envBase(envId);
    return {
      meta: base + KEY_PARTS.envMeta,
      queues: base + KEY_PARTS.envQueues,
      timers: base + KEY_PARTS.envTimers,
      qvt: base + KEY_PARTS.envQueueVt,
      inflight: base + KEY_PARTS.envInflight,
      dead: base + KEY_PARTS.envDead,
    };
  }

  envKeyList(envId: string): string[] {
    const k = this.envKeys(envId);
    return [k.meta, k.queues, k.timers, k.qvt, k.inflight, k.dead];
  }

  run(envId: string, runId: string): string {
    return `${this.envBase(envId)}${KEY_PARTS.run}:${encodeName(runId)}`;
  }

  queue(envId: string, queue: string, part: QueuePart): string {
    return `${this.envBase(envId)}${KEY_PARTS.queue}:${encodeName(queue)}:${part}`;
  }

  /** A lane is one concurrency key of a queue; runs without a key use the lane "". */
  lane(envId: string, queue: string, concurrencyKey: string | undefined, part: LanePart): string {
    return `${this.envBase(envId)}${KEY_PARTS.queue}:${encodeName(queue)}:${KEY_PARTS.lane}:${encodeName(concurrencyKey ?? "")}:${part}`;
  }

  locator(runId: string): string {
    return `${this.locatorPrefix()}${encodeName(runId)}`;
  }

  /** What every locator key starts with; a script that drops locators appends encoded run ids to it. */
  locatorPrefix(): string {
    return `${this.prefix}${KEY_PARTS.locator}:`;
  }

  /** Marks that the queue's state was rebuilt from its source of truth; gone when Redis loses its data. */
  builtMarker(): string {
    return `${this.prefix}${KEY_PARTS.built}`;
  }

  shardOf(envId: string): number {
    return fnv1a(envId) % this.shardCount;
  }

  shardKeys(shard: number): ShardKeys {
    const base = `${this.prefix}{${KEY_PARTS.shard}:${shard}}:`;
    return {
      envs: base + KEY_PARTS.shardEnvs,
      timers: base + KEY_PARTS.shardTimers,
      inflight: base + KEY_PARTS.shardInflight,
      ver: base + KEY_PARTS.shardVer,
      vt: base + KEY_PARTS.shardVt,
      clock: base + KEY_PARTS.shardClock,
    };
  }

  shardKeyList(shard: number): string[] {
    const k = this.shardKeys(shard);
    return [k.envs, k.timers, k.inflight, k.ver, k.vt, k.clock];
  }
}
