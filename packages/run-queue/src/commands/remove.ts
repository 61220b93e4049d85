import { z } from "zod";
import { errorFromScriptCode, ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number()]);

/** Removes a run that is not in flight (see lua/remove-7.lua); `found` is false for an unknown run. */
export async function removeScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runId: string,
): Promise<{ state: EnvState; found: boolean }> {
  const { state, rest } = await runEnvScript(ctx, "remove", envId, now, [encodeName(runId)], [ctx.keys.run(envId, runId)]);
  const [code] = parseReply(reply, rest, "remove");
  if (code === ScriptCode.RUN_NOT_FOUND) return { state, found: false };
  if (code < 0) throw errorFromScriptCode(code, runId, "remove");
  return { state, found: true };
}
