import type { EngineHandle } from "@runengine/core";

/** Any constant 64-bit key, the same in every replica: they serialize their first-start check on it. */
const firstStartLockKey = 0x72756e656e67;

/**
 * On a first start (a database with no environment at all) creates the DEVELOPMENT environment
 * "development" and returns its API key; otherwise returns undefined. Replicas starting at once
 * take a Postgres advisory lock around the check, so exactly one of them creates it.
 */
export async function createFirstEnvironment(handle: EngineHandle): Promise<{ environmentId: string; apiKey: string } | undefined> {
  const { engine } = handle;
  return engine.resources.prisma.$transaction(
    async (tx) => {
      // Held until this transaction ends, i.e. after the environment below is committed.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${firstStartLockKey}::bigint)`;
      if ((await tx.runtimeEnvironment.count()) > 0) return undefined;
      const { environment, apiKey } = await engine.createEnvironment({ name: "development", type: "DEVELOPMENT" });
      return { environmentId: environment.id, apiKey };
    },
    { timeout: 30_000, maxWait: 30_000 },
  );
}
