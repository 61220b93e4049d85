import { z } from "zod";
import { errorFromScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number()]);

/** Queues a dead-lettered run again with fresh attempts (see lua/redrive-7.lua). */
export async function redriveScript(ctx: CommandContext, envId: string, now: number, runId: string): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "redrive", envId, now, [encodeName(runId)], [ctx.keys.run(envId, runId)]);
  const [code] = parseReply(reply, rest, "redrive");
  if (code < 0) throw errorFromScriptCode(code, runId, "redrive");
  return { state };
}
