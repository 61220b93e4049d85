import { z } from "zod";
import { errorFromScriptCode, ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number(), z.union([z.string(), z.number()])]);

/** Gives an in-flight run back (see lua/nack-7.lua); throws the script's refusal as a typed error. */
export async function nackScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runId: string,
  retryAt: number,
  maxAttempts: number,
): Promise<{ state: EnvState; deadLettered: boolean; attempt: number }> {
  const { state, rest } = await runEnvScript(
    ctx,
    "nack",
    envId,
    now,
    [encodeName(runId), retryAt, maxAttempts],
    [ctx.keys.run(envId, runId)],
  );
  const [code, attempt] = parseReply(reply, rest, "nack");
  if (code < 0) throw errorFromScriptCode(code, runId, "nack");
  return { state, deadLettered: code === ScriptCode.NOOP, attempt: Number(attempt) };
}
