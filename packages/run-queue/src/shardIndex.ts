import type { CommandContext } from "./commands/context.ts";
import { type EnvCandidate, shardPeekScript } from "./commands/shardPeek.ts";
import { type ShardUpdate, shardUpdateScript } from "./commands/shardUpdate.ts";
import { decodeName } from "./keys.ts";

/**
 * The index of envs with runnable work, sharded over `shardCount` keys with their own hash tags.
 * Each call goes to one shard key, so in a cluster the shards spread over the nodes; calls to
 * several shards are issued together (not as a MULTI/pipeline, which a cluster refuses across
 * slots), which ioredis writes back to back on each connection.
 */
export class ShardIndex {
  /**
   * The highest shard clock this process has seen. Scores are compared across shards, so each
   * peek passes it to every shard: an env joining a quiet shard then starts where service is,
   * not at that shard's stale clock.
   */
  #clock = 0;

  constructor(private readonly ctx: CommandContext) {}

  /** The clock floor every index update of this process passes (see shardUpdate-6.lua). */
  get clockFloor(): number {
    return this.#clock;
  }

  get shardCount(): number {
    return this.ctx.keys.shardCount;
  }

  /**
   * The runnable envs with the lowest virtual times: the `k` lowest of every shard, merged, so
   * fairness holds across shards (scores are comparable: all count dequeues served). With `envIds`,
   * only those of them that are runnable.
   */
  async peek(now: number, k: number, envIds?: readonly string[]): Promise<EnvCandidate[]> {
    if (envIds) {
      const byShard = new Map<number, string[]>();
      for (const envId of envIds) {
        const shard = this.ctx.keys.shardOf(envId);
        byShard.set(shard, [...(byShard.get(shard) ?? []), envId]);
      }
      return this.#merge(await Promise.all([...byShard].map(([shard, ids]) => shardPeekScript(this.ctx, shard, now, 0, this.#clock, ids))));
    }
    return this.#merge(
      await Promise.all(Array.from({ length: this.shardCount }, (_, shard) => shardPeekScript(this.ctx, shard, now, k, this.#clock))),
    );
  }

  /** Records that service reached `score` (the score of an env after a batch it was served). */
  served(score: number): void {
    if (score > this.#clock) this.#clock = score;
  }

  #merge(parts: { clock: number; candidates: EnvCandidate[] }[]): EnvCandidate[] {
    for (const { clock } of parts) this.served(clock);
    return parts.flatMap((part) => part.candidates);
  }

  /** Applies env states, one script call per shard involved. */
  async apply(updates: readonly ShardUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const byShard = new Map<number, ShardUpdate[]>();
    for (const update of updates) {
      const shard = this.ctx.keys.shardOf(update.state.envId);
      const list = byShard.get(shard);
      if (list) list.push(update);
      else byShard.set(shard, [update]);
    }
    await Promise.all([...byShard].map(([shard, list]) => shardUpdateScript(this.ctx, shard, this.#clock, list)));
  }

  /** Envs of a shard whose earliest visibility deadline (a lower bound) has passed. */
  async expiredEnvs(shard: number, now: number, limit: number): Promise<string[]> {
    const members = await this.ctx.redis.zrangebyscore(this.ctx.keys.shardKeys(shard).inflight, "-inf", `(${now}`, "LIMIT", 0, limit);
    return members.map(decodeName);
  }
}
