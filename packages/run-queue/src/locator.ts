import type { Redis } from "ioredis";
import { type CommandContext, isCluster } from "./commands/context.ts";

/**
 * Finds a run's env from its id alone (ack, nack, ... take only the run id). The truth is the key
 * `<prefix>loc:<runId>` → envId; in a cluster it lives in its own slot, so it is read with its own
 * command before the env script. A run never changes env (enqueue refuses that), so a process-local
 * cache is safe; a cached entry can only be stale if the run was finished and its id reused, which
 * the caller detects as "not found" and answers by reading the key.
 */
export class RunLocator {
  /**
   * Two generations bound the cache at `maxCached` entries: new entries go to `#young`; when it is
   * half full it becomes `#old` and the previous old generation is dropped whole. Evicting the
   * oldest entry one at a time (`keys().next()` + delete) would be O(1) in theory but not in V8: a
   * Map keeps deleted entries as holes until it rehashes, and finding the first live entry skips
   * them, so a full cache cost 10-80 us per insert (a process that enqueues and never acks, like a
   * producer, hit that after 100,000 runs).
   */
  #young = new Map<string, string>();
  #old = new Map<string, string>();

  constructor(
    private readonly ctx: CommandContext,
    private readonly maxCached = 100_000,
  ) {}

  cached(runId: string): string | undefined {
    return this.#young.get(runId) ?? this.#old.get(runId);
  }

  remember(runId: string, envId: string): void {
    this.#young.set(runId, envId);
    if (this.#young.size >= this.maxCached / 2) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }

  forget(runId: string): void {
    this.#young.delete(runId);
    this.#old.delete(runId);
  }

  async lookup(runId: string): Promise<string | null> {
    const envId = await this.ctx.redis.get(this.ctx.keys.locator(runId));
    if (envId !== null) this.remember(runId, envId);
    return envId;
  }

  /**
   * Records the env of each run unless one is recorded already, and returns what was recorded before
   * (null for a new run), so the caller can refuse a run id that belongs to another env.
   */
  async claim(runs: readonly { runId: string; envId: string }[]): Promise<(string | null)[]> {
    if (runs.length > 1 && !isCluster(this.ctx.redis)) {
      // One write and one read for the batch: sent one by one, each SET costs Redis a read and a
      // write of its own (~8 us here against ~1.5 us pipelined). A cluster refuses a pipeline
      // across slots, so there they go one by one.
      const pipeline = (this.ctx.redis as Redis).pipeline();
      for (const { runId, envId } of runs) pipeline.call("SET", this.ctx.keys.locator(runId), envId, "NX", "GET");
      const replies = (await pipeline.exec()) ?? [];
      return replies.map(([error, owner]) => {
        if (error) throw error;
        return owner as string | null;
      });
    }
    return Promise.all(
      runs.map(
        ({ runId, envId }) => this.ctx.redis.call("SET", this.ctx.keys.locator(runId), envId, "NX", "GET") as Promise<string | null>,
      ),
    );
  }

  async drop(runId: string): Promise<void> {
    this.forget(runId);
    await this.ctx.redis.del(this.ctx.keys.locator(runId));
  }

  /** lookup() for many runs: one GET each, sent together. */
  async lookupMany(runIds: readonly string[]): Promise<(string | null)[]> {
    return Promise.all(runIds.map((runId) => this.lookup(runId)));
  }

  /**
   * drop() for many runs: one DEL of all the keys on a single Redis; on a cluster, where the keys
   * live in different slots (a multi-key DEL across slots is refused), one DEL each, sent together.
   */
  async dropMany(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    for (const runId of runIds) this.forget(runId);
    const keys = runIds.map((runId) => this.ctx.keys.locator(runId));
    if (isCluster(this.ctx.redis)) {
      await Promise.all(keys.map((key) => this.ctx.redis.del(key)));
    } else {
      await this.ctx.redis.del(...keys);
    }
  }
}
