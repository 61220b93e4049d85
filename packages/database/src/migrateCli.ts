import { z } from "zod";
import { ensureDatabaseExists } from "./ensureDatabase.ts";
import { migrate } from "./migrate.ts";

const env = z
  .object({ DATABASE_URL: z.string().url().describe("PostgreSQL connection URL") })
  .safeParse(process.env);
if (!env.success) {
  console.error(`Invalid environment: ${env.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  process.exit(1);
}

if (await ensureDatabaseExists(env.data.DATABASE_URL)) console.log("Created the database.");
const result = await migrate({ databaseUrl: env.data.DATABASE_URL });
for (const name of result.alreadyApplied) console.log(`  applied      ${name}`);
for (const name of result.applied) console.log(`  applied now  ${name}`);
console.log(
  `Database is up to date: ${result.applied.length + result.alreadyApplied.length} migrations (${result.applied.length} applied now).`,
);
