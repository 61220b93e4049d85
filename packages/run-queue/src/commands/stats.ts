import { z } from "zod";
import { encodeName } from "../keys.ts";
import type { QueueStats } from "../types.ts";
import { type CommandContext, parseReply } from "./context.ts";

const reply = z.tuple([z.number(), z.number(), z.number()]);

/** Queued, in flight and limit of an env, a queue or one concurrency key (see lua/stats-2.lua). */
export async function statsScript(
  ctx: CommandContext,
  envId: string,
  queue: string | undefined,
  concurrencyKey: string | undefined,
): Promise<QueueStats> {
  const env = ctx.keys.envKeys(envId);
  const scope = queue === undefined ? "env" : concurrencyKey === undefined ? "queue" : "lane";
  const raw = await ctx.scripts.run(
    ctx.redis,
    "stats",
    [env.meta, env.inflight],
    [ctx.keys.envBase(envId), scope, encodeName(queue ?? ""), encodeName(concurrencyKey ?? "")],
  );
  const [queued, inFlight, limit] = parseReply(reply, raw, "stats");
  return { queued, inFlight, limit: limit < 0 ? null : limit };
}
