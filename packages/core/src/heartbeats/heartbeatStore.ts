import type { Redis } from "ioredis";

/**
 * Heartbeat deadlines of runs, one sorted set: member `<runId>:<snapshotId>`, score = the instant
 * the run is overdue. Because the member names the snapshot, a heartbeat for a snapshot that is no
 * longer tracked (a stale worker) cannot extend anything (`ZADD XX`), without a lookup or a script.
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
  async track(runId: string, snapshotId: string, previousSnapshotId: string | null, deadline: number | undefined): Promise<void> {
    const multi = this.redis.multi();
    if (previousSnapshotId) multi.zrem(this.key, member(runId, previousSnapshotId));
    if (deadline !== undefined) multi.zadd(this.key, deadline, member(runId, snapshotId));
    await multi.exec();
  }

  /** Pushes the deadline of the run's tracked snapshot. False when that snapshot is not tracked. */
  async beat(runId: string, snapshotId: string, deadline: number): Promise<boolean> {
    const changed = await this.redis.zadd(this.key, "XX", "CH", deadline, member(runId, snapshotId));
    return Number(changed) === 1;
  }

  async forget(runId: string, snapshotId: string): Promise<void> {
    await this.redis.zrem(this.key, member(runId, snapshotId));
  }

  /**
   * Overdue entries this caller now owns: each is pushed `claimMs` into the future, and only the
   * monitor whose push moved it (`ZADD XX GT CH`) gets it, so monitors running side by side never
   * handle one twice. An entry whose handler dies comes due again after `claimMs`.
   */
  async claimOverdue(now: number, limit: number, claimMs: number): Promise<Array<{ runId: string; snapshotId: string }>> {
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

  /** The tracked deadline of one snapshot, or null. */
  async deadlineOf(runId: string, snapshotId: string): Promise<number | null> {
    const score = await this.redis.zscore(this.key, member(runId, snapshotId));
    return score === null ? null : Number(score);
  }
}

function member(runId: string, snapshotId: string): string {
  return `${runId}:${snapshotId}`;
}

function parseMember(entry: string): { runId: string; snapshotId: string } {
  const separator = entry.lastIndexOf(":");
  return { runId: entry.slice(0, separator), snapshotId: entry.slice(separator + 1) };
}
