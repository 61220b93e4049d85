import { z } from "zod";
import { decodeName, encodeName } from "../keys.ts";
import { type CommandContext, parseReply } from "./context.ts";

/** A runnable env and its virtual time (dequeues served, the fairness score). */
export interface EnvCandidate {
  envId: string;
  shard: number;
  score: number;
}

const reply = z.tuple([z.string()], z.string());

/**
 * Wakes due envs of one shard, raises its clock to `clockFloor`, and returns its clock with the `k`
 * runnable envs of lowest virtual time, or, with `envIds`, those of them that are runnable (see
 * lua/shardPeek-6.lua).
 */
export async function shardPeekScript(
  ctx: CommandContext,
  shard: number,
  now: number,
  k: number,
  clockFloor: number,
  envIds?: readonly string[],
): Promise<{ clock: number; candidates: EnvCandidate[] }> {
  const raw = await ctx.scripts.run(ctx.redis, "shardPeek", ctx.keys.shardKeyList(shard), [
    now,
    k,
    clockFloor,
    ...(envIds ?? []).map(encodeName),
  ]);
  const [clock, ...flat] = parseReply(reply, raw, "shardPeek");
  const candidates: EnvCandidate[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    candidates.push({ envId: decodeName(flat[i] as string), shard, score: Number(flat[i + 1]) });
  }
  return { clock: Number(clock), candidates };
}
