import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface CreatePrismaClientOptions {
  /** postgresql:// URL; a `schema` query parameter selects the Postgres schema */
  databaseUrl: string;
  /** connections in the pool (default 10) */
  poolSize?: number;
}

/**
 * Prisma with the pg driver adapter: no native query engine, so nothing is downloaded at install
 * or run time.
 */
export function createPrismaClient({ databaseUrl, poolSize = 10 }: CreatePrismaClientOptions): PrismaClient {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  // A connection that cannot be made within 10 s fails the query (the caller retries) instead of
  // hanging while Postgres restarts; broken connections leave the pool and new ones are made.
  const adapter = new PrismaPg(
    { connectionString: url.toString(), max: poolSize, connectionTimeoutMillis: 10_000, keepAlive: true },
    schema ? { schema } : undefined,
  );
  // Transactions wait longer than Prisma's defaults (2 s for a connection, 5 s in all) before
  // failing: on a loaded machine a run's lock outlives that, and a retry costs more than the wait.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
}
