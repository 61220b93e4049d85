import { z } from "zod";

/** Every role's Postgres connection (the source of truth). */
export const databaseConfig = z.object({
  DATABASE_URL: z
    .url()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), "must be a postgres:// or postgresql:// URL")
    .describe("PostgreSQL connection URL; a `schema` query parameter selects the schema"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10).describe("Connections in this process's pool"),
});
export type DatabaseConfig = z.output<typeof databaseConfig>;
