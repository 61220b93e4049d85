import { z } from "zod";
import { ScriptCode } from "../codes.ts";
import { RunQueueError } from "../errors.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, locatorPrefixArg, parseReply, runEnvScript } from "./context.ts";

const reply = z.array(z.union([z.literal(ScriptCode.OK), z.literal(ScriptCode.RUN_NOT_FOUND)]));

/**
 * Forgets runs of one env and frees what they held, in one script call (see lua/ackMany-6.lua).
 * `found[i]` is false for an unknown run id (or one listed twice: it is acked once).
 * `locatorsDropped`: the script deleted the acked runs' locators too (single Redis); else the caller must.
 */
export async function ackManyScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  runIds: readonly string[],
): Promise<{ state: EnvState; found: boolean[]; locatorsDropped: boolean }> {
  const locators = locatorPrefixArg(ctx);
  const { state, rest } = await runEnvScript(ctx, "ackMany", envId, now, [locators, ...runIds.map(encodeName)]);
  const codes = parseReply(reply, rest, "ackMany");
  if (codes.length !== runIds.length) {
    throw new RunQueueError("UNEXPECTED_REPLY", `ackMany: ${runIds.length} run ids but ${codes.length} codes`);
  }
  return { state, found: codes.map((code) => code === ScriptCode.OK), locatorsDropped: locators !== "" };
}
