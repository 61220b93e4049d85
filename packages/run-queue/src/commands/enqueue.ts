import { z } from "zod";
import { ScriptCode } from "../codes.ts";
import { encodeName } from "../keys.ts";
import type { EnqueueResult } from "../types.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

/** One run for enqueue-6.lua, already validated and defaulted. */
export interface EnqueueItem {
  runId: string;
  orgId: string;
  queue: string;
  concurrencyKey: string | undefined;
  priority: number;
  availableAt: number;
  attempt: number;
}

const codes = z.array(z.union([z.literal(ScriptCode.OK), z.literal(ScriptCode.REQUEUED), z.literal(ScriptCode.NOOP)]));

const RESULT = { [ScriptCode.OK]: "created", [ScriptCode.REQUEUED]: "requeued", [ScriptCode.NOOP]: "exists" } as const;

/** Enqueues runs of one env in one script call (see lua/enqueue-6.lua). */
export async function enqueueScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  items: readonly EnqueueItem[],
): Promise<{ state: EnvState; results: EnqueueResult[] }> {
  const argv: (string | number)[] = [];
  for (const item of items) {
    argv.push(
      encodeName(item.runId),
      item.orgId,
      encodeName(item.queue),
      encodeName(item.concurrencyKey ?? ""),
      item.priority,
      item.availableAt,
      item.attempt,
    );
  }
  const { state, rest } = await runEnvScript(ctx, "enqueue", envId, now, argv);
  return { state, results: parseReply(codes, rest, "enqueue").map((code) => RESULT[code]) };
}
