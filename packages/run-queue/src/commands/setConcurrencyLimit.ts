import { z } from "zod";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.literal(1)]);

/** Sets (or clears with null) the env's or a queue's concurrency limit (see lua/setConcurrencyLimit-6.lua). */
export async function setConcurrencyLimitScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  queue: string | undefined,
  limit: number | null,
): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "setConcurrencyLimit", envId, now, [
    queue === undefined ? "" : encodeName(queue),
    limit === null ? "" : limit,
  ]);
  parseReply(reply, rest, "setConcurrencyLimit");
  return { state };
}
