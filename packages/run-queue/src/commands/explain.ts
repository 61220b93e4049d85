import { z } from "zod";
import { decodeName, encodeName } from "../keys.ts";
import type { Blocker, Explanation, RunState } from "../types.ts";
import { type CommandContext, parseReply } from "./context.ts";

const STATE: Record<string, RunState> = { q: "queued", f: "inFlight", r: "released", d: "deadLettered" };

const blocker = z.enum(["notYetAvailable", "paused", "environment", "queue", "concurrencyKey", "rate"]);
const reply = z.tuple(
  [
    z.enum(["q", "f", "r", "d"]),
    z.string(),
    z.string(),
    z.string(),
    z.coerce.number(),
    z.coerce.number(),
    z.coerce.number(),
    z.number(),
    z.string(),
    z.string(),
    z.number(),
  ],
  blocker,
);

/** Says where a run is and what holds it back (see lua/explain-7.lua). Read-only. */
export async function explainScript(ctx: CommandContext, envId: string, now: number, runId: string): Promise<Explanation> {
  const raw = await ctx.scripts.run(
    ctx.redis,
    "explain",
    [...ctx.keys.envKeyList(envId), ctx.keys.run(envId, runId)],
    [ctx.keys.envBase(envId), now, encodeName(runId)],
  );
  if (Array.isArray(raw) && raw.length === 0) return { runId, state: "unknown" };
  const parsed = parseReply(reply, raw, "explain");
  const [st, orgId, queue, lane, priority, availableAt, attempt, position, consumer, deadline, rateAt, ...blockers] = parsed;
  const state = STATE[st] as RunState;
  const concurrencyKey = decodeName(lane);
  return {
    runId,
    state,
    message: {
      runId,
      orgId,
      envId,
      queue: decodeName(queue),
      ...(concurrencyKey === "" ? {} : { concurrencyKey }),
      priority,
      availableAt,
      attempt,
    },
    position: position >= 0 ? position : null,
    blockedBy: blockers as Blocker[],
    rateAllowedAt: rateAt > 0 ? rateAt : null,
    consumerId: consumer === "" ? null : consumer,
    deadline: deadline === "" ? null : Number(deadline),
  };
}
