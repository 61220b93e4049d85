import { z } from "zod";
import { errorFromScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number()]);

/** Moves the visibility deadline of an in-flight run (see lua/extend-7.lua). */
export async function extendScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runId: string,
  deadline: number,
): Promise<{ state: EnvState }> {
  const { state, rest } = await runEnvScript(ctx, "extend", envId, now, [encodeName(runId), deadline], [ctx.keys.run(envId, runId)]);
  const [code] = parseReply(reply, rest, "extend");
  if (code < 0) throw errorFromScriptCode(code, runId, "extend");
  return { state };
}
