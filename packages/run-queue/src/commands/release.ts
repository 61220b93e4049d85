import { z } from "zod";
import { errorFromScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number()]);

/** Frees the slot of an in-flight run that suspends (see lua/release-7.lua). */
export async function releaseScript(ctx: CommandContext, envId: string, now: number, runId: string): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "release", envId, now, [encodeName(runId)], [ctx.keys.run(envId, runId)]);
  const [code] = parseReply(reply, rest, "release");
  if (code < 0) throw errorFromScriptCode(code, runId, "release");
  return { state };
}
