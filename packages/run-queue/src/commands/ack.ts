import { z } from "zod";
import { ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, locatorPrefixArg, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.union([z.literal(ScriptCode.OK), z.literal(ScriptCode.RUN_NOT_FOUND)]), z.string()]);

/**
 * Forgets a run and frees what it held (see lua/ack-7.lua). `found` is false for an unknown run.
 * `locatorDropped`: the script deleted the run's locator too (single Redis); else the caller must.
 */
export async function ackScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runId: string,
): Promise<{ state: EnvState; found: boolean; locatorDropped: boolean }> {
  const locators = locatorPrefixArg(ctx);
  const { state, rest } = await runEnvScript(ctx, "ack", envId, now, [encodeName(runId), locators], [ctx.keys.run(envId, runId)]);
  const [code] = parseReply(reply, rest, "ack");
  return { state, found: code === ScriptCode.OK, locatorDropped: locators !== "" };
}
