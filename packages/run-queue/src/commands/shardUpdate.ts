import { z } from "zod";
import { encodeName } from "../keys.ts";
import { type CommandContext, type EnvState, parseReply } from "./context.ts";

/** An env state to apply, with the number of runs it just served (0 outside dequeue). */
export interface ShardUpdate {
  state: EnvState;
  served: number;
}

/** Applies env states to one shard of the env index (see lua/shardUpdate-6.lua). */
export async function shardUpdateScript(
  ctx: CommandContext,
  shard: number,
  clockFloor: number,
  updates: readonly ShardUpdate[],
): Promise<number> {
  const argv: (string | number)[] = [clockFloor];
  for (const { state, served } of updates) {
    argv.push(
      encodeName(state.envId),
      state.ver,
      served,
      state.runnable ? "1" : "0",
      state.nextAt,
      state.inflightMin,
      state.idle ? "1" : "0",
    );
  }
  return parseReply(z.number(), await ctx.scripts.run(ctx.redis, "shardUpdate", ctx.keys.shardKeyList(shard), argv), "shardUpdate");
}
