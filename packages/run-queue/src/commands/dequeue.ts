import { z } from "zod";
import { RunQueueError } from "../errors.ts";
import { decodeName } from "../keys.ts";
import type { DequeuedMessage } from "../types.ts";
import { type CommandContext, type EnvState, parseReply, runEnvScript } from "./context.ts";

// The fields were checked (strings or numbers) with the whole reply, in parseEnvReply.
const servedSchema = z.number();

/** Takes up to `count` runs of one env (see lua/dequeue-6.lua). */
export async function dequeueScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  count: number,
  deadline: number,
  consumerId: string,
): Promise<{ state: EnvState; messages: DequeuedMessage[] }> {
  const { state, rest } = await runEnvScript(ctx, "dequeue", envId, now, [count, deadline, consumerId]);
  const served = parseReply(servedSchema, rest[0], "dequeue");
  const fields = rest.slice(1);
  if (fields.length !== served * 8) {
    throw new RunQueueError("UNEXPECTED_REPLY", `dequeue: ${served} runs but ${fields.length} fields`);
  }
  const messages: DequeuedMessage[] = [];
  for (let i = 0; i < fields.length; i += 8) {
    const lane = decodeName(String(fields[i + 3]));
    const message: DequeuedMessage = {
      runId: decodeName(String(fields[i])),
      orgId: String(fields[i + 1]),
      envId,
      queue: decodeName(String(fields[i + 2])),
      priority: Number(fields[i + 4]),
      availableAt: Number(fields[i + 5]),
      attempt: Number(fields[i + 6]),
      deadline: Number(fields[i + 7]),
    };
    if (lane !== "") message.concurrencyKey = lane;
    messages.push(message);
  }
  return { state, messages };
}
