import { z } from "zod";
import { errorFromScriptCode, ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import type { ReacquireResult } from "../types.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number(), z.enum(["", "environment", "queue", "concurrencyKey"])]);

/** Takes a slot again for a released run if the limits allow (see lua/reacquire-7.lua). */
export async function reacquireScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runId: string,
  deadline: number,
): Promise<{ state: EnvState; result: ReacquireResult }> {
  const { state, rest } = await runEnvScript(
    ctx,
    "reacquire",
    envId,
    now,
    [encodeName(runId), deadline],
    [ctx.keys.run(envId, runId)],
  );
  const [code, blocker] = parseReply(reply, rest, "reacquire");
  if (code < 0) throw errorFromScriptCode(code, runId, "reacquire");
  if (code === ScriptCode.BLOCKED && blocker !== "") return { state, result: { acquired: false, blockedBy: blocker } };
  return { state, result: { acquired: true } };
}
