import { z } from "zod";
import { RunQueueError } from "../errors.ts";
import { decodeName, encodeName } from "../keys.ts";
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
  return { state, messages: parseDequeued(envId, rest, "dequeue") };
}

/**
 * dequeueScript and the shard update of the env's state in one call, on a single Redis (see
 * lua/dequeueIndexed-12.lua); `clockFloor` as for shardUpdateScript.
 */
export async function dequeueIndexedScript(
  ctx: CommandContext,
  envId: string,
  now: number,
  count: number,
  deadline: number,
  consumerId: string,
  clockFloor: number,
): Promise<DequeuedMessage[]> {
  const shardKeys = ctx.keys.shardKeyList(ctx.keys.shardOf(envId));
  const { rest } = await runEnvScript(ctx, "dequeueIndexed", envId, now, [count, deadline, consumerId, clockFloor, encodeName(envId)], shardKeys);
  return parseDequeued(envId, rest, "dequeueIndexed");
}

/** The runs of a dequeue's reply, after its env state: n, then n groups of 8. */
function parseDequeued(envId: string, rest: readonly (string | number)[], op: string): DequeuedMessage[] {
  const served = parseReply(servedSchema, rest[0], op);
  const fields = rest.slice(1);
  if (fields.length !== served * 8) {
    throw new RunQueueError("UNEXPECTED_REPLY", `${op}: ${served} runs but ${fields.length} fields`);
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
  return messages;
}
