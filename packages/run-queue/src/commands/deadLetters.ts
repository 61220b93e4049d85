import { z } from "zod";
import { decodeName } from "../keys.ts";
import type { DeadLetter } from "../types.ts";
import { type CommandContext, parseReply } from "./context.ts";

const reply = z.array(z.string());

/** One page of an env's dead-lettered runs, oldest first (see lua/deadLetters-1.lua). */
export async function deadLettersScript(ctx: CommandContext, envId: string, offset: number, count: number): Promise<DeadLetter[]> {
  const raw = await ctx.scripts.run(ctx.redis, "deadLetters", [ctx.keys.envKeys(envId).dead], [ctx.keys.envBase(envId), offset, count]);
  const fields = parseReply(reply, raw, "deadLetters");
  const out: DeadLetter[] = [];
  for (let i = 0; i + 7 < fields.length; i += 8) {
    const lane = decodeName(fields[i + 4] as string);
    out.push({
      runId: decodeName(fields[i] as string),
      deadLetteredAt: Number(fields[i + 1]),
      orgId: fields[i + 2] as string,
      envId,
      queue: decodeName(fields[i + 3] as string),
      ...(lane === "" ? {} : { concurrencyKey: lane }),
      priority: Number(fields[i + 5]),
      availableAt: Number(fields[i + 6]),
      attempt: Number(fields[i + 7]),
    });
  }
  return out;
}
