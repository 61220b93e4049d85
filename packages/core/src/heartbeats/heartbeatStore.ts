import type { Redis } from "ioredis";

/** The run a heartbeat entry is about: its environment, id and the snapshot being watched. */
export interface HeartbeatEntry {
  environmentId: string;
  runId: string;
  snapshotId: string;
}

/**
 * Heartbeat deadlines of runs, one sorted set: member `<environmentId>:<runId>:<snapshotId>`,
 * score = the instant the run is overdue. Because the member names the snapshot and the
 * environment, a heartbeat for a snapshot no longer tracked (a stale worker), or sent with another
 * environment's key, cannot extend anything (`ZADD XX`), without a lookup or a script.
 */
export class HeartbeatStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    this.key = `${keyPrefix}heartbeats`;
  }

  /**
   * Tracks the run's new snapshot (replacing the previous snapshot's deadline), or, with
   * `deadline` undefined, stops tracking the run because its new status needs no heartbeats.
   */
  async track(entry: HeartbeatEntry, previousSnapshotId: string | null, deadline: number | undefined): Promise<void> {
    // Two plain commands, not MULTI: they join whatever else the connection pipelines this turn
    // (a transaction is a write of its own), and a moment with neither or both entries is
    // harmless: the old snapshot's entry only ever fails a run whose snapshot moved on.
    await Promise.all([
      previousSnapshotId ? this.redis.zrem(this.key, member({ ...entry, snapshotId: previousSnapshotId })) : undefined,
      deadline !== undefined ? this.redis.zadd(this.key, deadline, member(entry)) : undefined,
    ]);
  }

  /** Pushes the deadline of the run's tracked snapshot. False when that entry is not tracked. */
  async beat(entry: HeartbeatEntry, deadline: number): Promise<boolean> {
    const changed = await this.redis.zadd(this.key, "XX", "CH", deadline, member(entry));
    return Number(changed) === 1;
  }

  async forget(entry: HeartbeatEntry): Promise<void> {
    await this.redis.zrem(this.key, member(entry));
  }

  /**
   * Overdue entries this caller now owns: each is pushed `claimMs` into the future, and only the
   * monitor whose push moved it (`ZADD XX GT CH`) gets it, so monitors running side by side never
   * handle one twice. An entry whose handler dies comes due again after `claimMs`.
   */
  async claimOverdue(now: number, limit: number, claimMs: number): Promise<HeartbeatEntry[]> {
    const due = await this.redis.zrangebyscore(this.key, "-inf", now, "LIMIT", 0, limit);
    if (due.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const entry of due) pipeline.zadd(this.key, "XX", "GT", "CH", now + claimMs, entry);
    const results = (await pipeline.exec()) ?? [];
    return due.filter((_, i) => Number(results[i]?.[1]) === 1).map(parseMember);
  }

  /** Entries tracked now (metrics, tests). */
  async size(): Promise<number> {
    return this.redis.zcard(this.key);
  }

  /** The tracked deadline of one entry, or null. */
  async deadlineOf(entry: HeartbeatEntry): Promise<number | null> {
    const score = await this.redis.zscore(this.key, member(entry));
    return score === null ? null : Number(score);
  }
}

function member({ environmentId, runId, snapshotId }: HeartbeatEntry): string {
  return `${environmentId}:${runId}:${snapshotId}`;
}

/** Environment and snapshot ids never contain ':'; a run id might, so it takes the middle. */
function parseMember(entry: string): HeartbeatEntry {
  const first = entry.indexOf(":");
  const last = entry.lastIndexOf(":");
  return { environmentId: entry.slice(0, first), runId: entry.slice(first + 1, last), snapshotId: entry.slice(last + 1) };
}
