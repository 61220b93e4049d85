import { z } from "zod";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.literal(1)]);

/** Sets (or clears with null) a queue's rate (see lua/setRateLimit-6.lua). */
export async function setRateLimitScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  queue: string,
  rate: { limit: number; periodMs: number; perKey: boolean } | null,
): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "setRateLimit", envId, now, [
    encodeName(queue),
    rate === null ? "" : rate.limit,
    rate === null ? "" : rate.periodMs,
    rate?.perKey ? "1" : "0",
  ]);
  parseReply(reply, rest, "setRateLimit");
  return { state };
}
