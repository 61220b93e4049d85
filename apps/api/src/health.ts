import type { EngineHandle } from "@runengine/core";

/** A check that has not answered by now counts as failed: a hung dependency must not hang /healthz. */
const checkTimeoutMs = 2_000;

function withinTimeout(check: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), checkTimeoutMs);
  });
  const outcome = check.then(
    () => true,
    () => false,
  );
  return Promise.race([outcome, timeout]).finally(() => clearTimeout(timer));
}

/** True when Postgres answers `SELECT 1` and Redis answers PING. */
export async function isHealthy(handle: EngineHandle): Promise<boolean> {
  const { prisma, redis } = handle.engine.resources;
  const [postgres, redisUp] = await Promise.all([withinTimeout(prisma.$queryRaw`SELECT 1`), withinTimeout(redis.ping())]);
  return postgres && redisUp;
}
