import { z } from "zod";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.literal(1)]);

/** Pauses or resumes a queue (see lua/setPaused-6.lua). */
export async function setPausedScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  queue: string,
  paused: boolean,
): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "setPaused", envId, now, [encodeName(queue), paused ? "1" : "0"]);
  parseReply(reply, rest, "setPaused");
  return { state };
}
