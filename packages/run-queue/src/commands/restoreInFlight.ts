import { z } from "zod";
import { ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";
import type { EnqueueItem } from "./enqueue.ts";

const reply = z.tuple([z.union([z.literal(ScriptCode.OK), z.literal(ScriptCode.NOOP)])]);

/** Puts a run the queue does not know straight into flight (see lua/restoreInFlight-7.lua). */
export async function restoreInFlightScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  item: Omit<EnqueueItem, "availableAt">,
  consumerId: string,
  deadline: number,
): Promise<{ state: EnvState; restored: boolean }> {
  const { state, rest } = await runEnvScript(
    ctx,
    "restoreInFlight",
    envId,
    now,
    [
      encodeName(item.runId),
      item.orgId,
      encodeName(item.queue),
      encodeName(item.concurrencyKey ?? ""),
      item.priority,
      item.attempt,
      consumerId,
      deadline,
    ],
    [ctx.keys.run(envId, item.runId)],
  );
  const [code] = parseReply(reply, rest, "restoreInFlight");
  return { state, restored: code === ScriptCode.OK };
}
