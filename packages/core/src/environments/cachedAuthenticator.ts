import type { PrismaClient } from "@runengine/database";
import { authenticateApiKey, hashApiKey, type AuthenticatedEnvironment } from "./apiKeys.ts";

export interface CachedAuthenticatorOptions {
  /** how long a key's environment is remembered; a revoked key keeps working this long at most */
  ttlMs?: number;
  /** remembered keys at most; the oldest goes first */
  maxEntries?: number;
}

/**
 * Authenticates API keys with a short memory, so the api does not query Postgres on every request
 * (workers heartbeat and poll constantly). Entries are keyed by the key's hash, never the key, and
 * only known keys are remembered: unknown ones always go to the database, so a flood of made-up
 * keys cannot fill the cache.
 */
export function createCachedAuthenticator(prisma: PrismaClient, { ttlMs = 10_000, maxEntries = 10_000 }: CachedAuthenticatorOptions = {}) {
  const remembered = new Map<string, { environment: AuthenticatedEnvironment; expiresAt: number }>();
  return async function authenticate(apiKey: string): Promise<AuthenticatedEnvironment | null> {
    const hash = hashApiKey(apiKey);
    const hit = remembered.get(hash);
    if (hit && hit.expiresAt > Date.now()) return hit.environment;
    remembered.delete(hash);
    const environment = await authenticateApiKey(prisma, apiKey);
    if (environment) {
      if (remembered.size >= maxEntries) remembered.delete(remembered.keys().next().value!);
      remembered.set(hash, { environment, expiresAt: Date.now() + ttlMs });
    }
    return environment;
  };
}
