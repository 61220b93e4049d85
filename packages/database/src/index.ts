export { createPrismaClient, sqlPool, type CreatePrismaClientOptions } from "./client.ts";
export { ensureDatabaseExists } from "./ensureDatabase.ts";
export { defaultMigrationsDir, migrate, MigrationChecksumError, type MigrateOptions, type MigrationResult } from "./migrate.ts";
export { PrismaClient, Prisma } from "./generated/prisma/client.ts";
export type * from "./generated/prisma/client.ts";
export * from "./generated/prisma/enums.ts";
export type { Pool as SqlPool, PoolClient as SqlClient, QueryResult as SqlResult } from "pg";
