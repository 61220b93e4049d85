import pg from "pg";
import { z } from "zod";
import { migrate } from "./migrate.ts";

const env = z
  .object({ DATABASE_URL: z.string().url().describe("PostgreSQL connection URL") })
  .safeParse(process.env);
if (!env.success) {
  console.error(`Invalid environment: ${env.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  process.exit(1);
}

/** A fresh machine has the server but not our database: create it rather than fail. */
async function ensureDatabaseExists(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = "/postgres";
  url.search = "";
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`).catch((error: unknown) => {
      // another process created it between our check and our CREATE
      if ((error as { code?: string }).code !== "42P04") throw error;
    });
    console.log(`Created database ${name}.`);
  } finally {
    await client.end();
  }
}

await ensureDatabaseExists(env.data.DATABASE_URL);
const result = await migrate({ databaseUrl: env.data.DATABASE_URL });
for (const name of result.alreadyApplied) console.log(`  applied      ${name}`);
for (const name of result.applied) console.log(`  applied now  ${name}`);
console.log(
  `Database is up to date: ${result.applied.length + result.alreadyApplied.length} migrations (${result.applied.length} applied now).`,
);
