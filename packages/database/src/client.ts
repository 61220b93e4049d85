import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface CreatePrismaClientOptions {
  /** postgresql:// URL; a `schema` query parameter selects the Postgres schema */
  databaseUrl: string;
  /** connections in the pool (default 10) */
  poolSize?: number;
}

/**
 * What our own SQL reads back in the types Prisma gives for the same columns: `timestamp(3)`
 * columns hold UTC instants (Prisma writes and reads them so, whatever the server's time zone) and
 * `bigint` is a BigInt. Prisma passes its own parsers with each of its queries, so these apply to
 * the engine's hand-written statements only.
 */
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;
const sqlTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === TIMESTAMP_OID) return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    if (oid === INT8_OID) return (value: string) => BigInt(value);
    return pg.types.getTypeParser(oid, format ?? "text");
  }) as typeof pg.types.getTypeParser,
};

const poolsOfClients = new WeakMap<PrismaClient, pg.Pool>();

/**
 * Prisma with the pg driver adapter: no native query engine, so nothing is downloaded at install
 * or run time. Prisma and the engine's hand-written SQL (`sqlPool`) share one pool.
 */
export function createPrismaClient({ databaseUrl, poolSize = 10 }: CreatePrismaClientOptions): PrismaClient {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get("schema") ?? undefined;
  url.searchParams.delete("schema");
  // A connection that cannot be made within 10 s fails the query (the caller retries) instead of
  // hanging while Postgres restarts; broken connections leave the pool and new ones are made.
  // Idle connections stay open (pg closes them after 10 s by default): a new backend costs Postgres
  // tens of ms of CPU to load its catalog caches and plan the engine's prepared statements again,
  // which every connection a burst of runs opens after a quiet spell would pay.
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 0,
    keepAlive: true,
    types: sqlTypes,
    ...(schema ? { options: `-c search_path="${schema.replaceAll('"', '""')}"` } : {}),
  });
  const adapter = new PrismaPg(pool, { ...(schema ? { schema } : {}), disposeExternalPool: true });
  // Transactions wait longer than Prisma's defaults (2 s for a connection, 5 s in all) before
  // failing: on a loaded machine a run's lock outlives that, and a retry costs more than the wait.
  const prisma = new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
  poolsOfClients.set(prisma, pool);
  return prisma;
}

/**
 * The pg pool under a client made by createPrismaClient, for the few statements on the engine's
 * hot path that are written by hand: Prisma spends about a millisecond of CPU compiling each query,
 * several times what the query costs Postgres.
 */
export function sqlPool(prisma: PrismaClient): pg.Pool {
  const pool = poolsOfClients.get(prisma);
  if (!pool) throw new TypeError("sqlPool: this PrismaClient was not made by createPrismaClient");
  return pool;
}
