import { z } from "zod";
import { decodeName } from "../keys.ts";
import type { ReclaimResult } from "../types.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

const reply = z.tuple([z.number(), z.number()], z.string());

/** Requeues (or dead-letters) up to `max` runs of one env whose deadline passed (see lua/reclaim-6.lua). */
export async function reclaimScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  max: number,
  maxAttempts: number,
): Promise<{ state: EnvState; result: ReclaimResult }> {
  const { state, rest } = await runEnvScript(ctx, "reclaim", envId, now, [max, maxAttempts]);
  const [requeued, deadLettered, ...runIds] = parseReply(reply, rest, "reclaim");
  return { state, result: { requeued, deadLettered, runIds: runIds.map(decodeName) } };
}
