import type { Cluster, Redis } from "ioredis";
import { z } from "zod";
import { RunQueueError } from "../errors.ts";
import type { RunQueueKeys } from "../keys.ts";
import type { ScriptRegistry } from "../scriptLoader.ts";

export type RedisClient = Redis | Cluster;

/** What every command wrapper needs: the client, the key producer and the scripts. */
export interface CommandContext {
  redis: RedisClient;
  keys: RunQueueKeys;
  scripts: ScriptRegistry;
}

/** An env's state for the shard index; see lua/includes/envState.lua. */
export interface EnvState {
  envId: string;
  ver: number;
  runnable: boolean;
  nextAt: number;
  inflightMin: number;
  idle: boolean;
  /** Differs from the previous state the env returned: the shard index must hear about it. */
  changed: boolean;
}

const replySchema = z.array(z.union([z.string(), z.number()]));
const stateSchema = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);

/**
 * True for an ioredis Cluster. On a single Redis every key is on one node, so a script may also
 * touch the locator keys (ack, ackMany and remove drop them in the same call), and batches of
 * commands on keys of different slots may be pipelined; on a cluster neither is possible.
 */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/** The locator prefix for scripts that drop locators themselves, or "" on a cluster (the caller drops them). */
export function locatorPrefixArg(ctx: CommandContext): string {
  return isCluster(ctx.redis) ? "" : ctx.keys.locatorPrefix();
}

/** Parses a reply with zod, turning a mismatch into a typed error. */
export function parseReply<T>(schema: z.ZodType<T>, reply: unknown, op: string): T {
  const parsed = schema.safeParse(reply);
  if (!parsed.success) {
    throw new RunQueueError("UNEXPECTED_REPLY", `${op}: unexpected reply from Redis: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Splits an env-level script reply into the env state and the operation's own part. */
export function parseEnvReply(envId: string, reply: unknown, op: string): { state: EnvState; rest: (string | number)[] } {
  const all = parseReply(replySchema, reply, op);
  const [ver, runnable, nextAt, inflightMin, idle, changed] = parseReply(stateSchema, all.slice(0, 6), op);
  return {
    state: { envId, ver, runnable: runnable === 1, nextAt, inflightMin, idle: idle === 1, changed: changed === 1 },
    rest: all.slice(6),
  };
}

/** Runs an env-level script (KEYS = the env keys, plus `extraKeys`; ARGV = env base, now, `argv`). */
export function runEnvScript(
  ctx: CommandContext,
  op: string,
  envId: string,
  now: number,
  argv: readonly (string | number)[],
  extraKeys: readonly string[] = [],
): Promise<{ state: EnvState; rest: (string | number)[] }> {
  return ctx.scripts
    .run(ctx.redis, op, [...ctx.keys.envKeyList(envId), ...extraKeys], [ctx.keys.envBase(envId), now, ...argv])
    .then((reply) => parseEnvReply(envId, reply, op));
}

export const codeAndRest = z.tuple([z.number()], z.union([z.string(), z.number()]));
