import { randomBytes } from "node:crypto";
import { Redis, type RedisOptions } from "ioredis";

// The bench shares one Redis with tests and other engineers: it only ever talks to loopback,
// and everything it writes lives under a prefix unique to this process so it can be removed.
export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = Number(process.env.BENCH_REDIS_PORT ?? 6379);

export function redisOptions(extra: RedisOptions = {}): RedisOptions {
  return { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null, ...extra, };
}

export function connect(extra: RedisOptions = {}): Redis {
  return new Redis(redisOptions(extra));
}

export function uniquePrefix(name: string): string {
  return `bench:${name}:${process.pid}-${randomBytes(3).toString("hex")}:`;
}

/** Deletes every key starting with `prefix` (SCAN + UNLINK, so Redis frees memory lazily). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  const pattern = `${escapeGlob(prefix)}*`;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 5000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Registers prefixes to delete on exit, including Ctrl-C, so an interrupted run does not
 * leave a million runs behind in a shared Redis.
 */
export class KeyJanitor {
  private readonly prefixes = new Set<string>();
  private cleaning: Promise<void> | null = null;

  constructor() {
    const onSignal = (sig: NodeJS.Signals) => {
      process.stderr.write(`\n${sig}: removing bench keys...\n`);
      void this.cleanAll().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }

  track(prefix: string): string {
    this.prefixes.add(prefix);
    return prefix;
  }

  async clean(prefix: string): Promise<number> {
    const redis = connect();
    try {
      return await deleteByPrefix(redis, prefix);
    } finally {
      this.prefixes.delete(prefix);
      redis.disconnect();
    }
  }

  cleanAll(): Promise<void> {
    this.cleaning ??= (async () => {
      for (const p of [...this.prefixes]) await this.clean(p).catch(() => undefined);
    })();
    return this.cleaning;
  }
}
