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
  const adapter = new PrismaPg({ connectionString: url.toString(), max: poolSize }, schema ? { schema } : undefined);
  return new PrismaClient({ adapter });
}
