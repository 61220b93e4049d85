/**
 * Writes prisma/migrations/<timestamp>_<name>/migration.sql: the SQL that takes the database from
 * the schema of the newest committed migration to the current prisma/schema.prisma.
 *
 * Prisma's native schema engine cannot be downloaded here, so this runs the WebAssembly schema
 * engine shipped inside the prisma@6 npm package (`prisma6`), offline, as a datamodel-to-datamodel
 * diff. Commit the new migration together with the schema change it came from: the next migration
 * diffs against the schema as of that commit.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const schemaPath = join(repoRoot, "prisma/schema.prisma");
const migrationsDir = join(repoRoot, "prisma/migrations");
const require = createRequire(import.meta.url);
/** The WebAssembly engine opens a connection even for a datamodel-only diff; it writes nothing. */
const shadowDatabaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: pnpm db:migration:create <snake_case_name>");
  process.exit(1);
}

/** Prisma 6 insists on a datasource url and a generator it knows; both are irrelevant to the diff. */
function asPrisma6Datamodel(schema: string): string {
  return schema
    .replace(/generator client \{[^}]*\}/, 'generator client {\n  provider = "prisma-client-js"\n}')
    .replace(/datasource db \{/, 'datasource db {\n  url = env("DATABASE_URL")');
}

function previousSchema(): string | undefined {
  const hasMigrations = readdirSync(migrationsDir, { withFileTypes: true }).some((e) => e.isDirectory());
  if (!hasMigrations) return undefined;
  const commit = execFileSync("git", ["log", "-1", "--format=%H", "--", "prisma/migrations"], { cwd: repoRoot })
    .toString()
    .trim();
  if (!commit) throw new Error("prisma/migrations has migrations that are not committed; commit them first");
  return execFileSync("git", ["show", `${commit}:prisma/schema.prisma`], { cwd: repoRoot }).toString();
}

const work = mkdtempSync(join(tmpdir(), "runengine-migration-"));
try {
  const to = join(work, "to.prisma");
  writeFileSync(to, asPrisma6Datamodel(readFileSync(schemaPath, "utf8")));
  const before = previousSchema();
  const fromArgs = before === undefined ? ["--from-empty"] : ["--from-schema-datamodel", join(work, "from.prisma")];
  if (before !== undefined) writeFileSync(join(work, "from.prisma"), asPrisma6Datamodel(before));

  const adapterUrl = pathToFileURL(require.resolve("@prisma/adapter-pg6")).href;
  writeFileSync(
    join(work, "prisma.config.mjs"),
    `import { PrismaPg } from ${JSON.stringify(adapterUrl)};
export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "to.prisma",
  adapter: async () => new PrismaPg({ connectionString: ${JSON.stringify(shadowDatabaseUrl)} }),
};
`,
  );
  // Any existing file stops Prisma 6 from trying to download native engines it will not use.
  const placeholderEngine = process.execPath;
  const sql = execFileSync(
    process.execPath,
    [
      require.resolve("prisma6/build/index.js"),
      "migrate",
      "diff",
      "--config",
      "prisma.config.mjs",
      ...fromArgs,
      "--to-schema-datamodel",
      to,
      "--script",
    ],
    {
      cwd: work,
      env: {
        ...process.env,
        DATABASE_URL: shadowDatabaseUrl,
        PRISMA_QUERY_ENGINE_LIBRARY: placeholderEngine,
        PRISMA_SCHEMA_ENGINE_BINARY: placeholderEngine,
        PRISMA_HIDE_UPDATE_MESSAGE: "1",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  ).toString();

  if (!/^(CREATE|ALTER|DROP)/m.test(sql)) {
    console.log("schema.prisma matches the newest migration: nothing to write.");
  } else {
    const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
    const dir = resolve(migrationsDir, `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "migration.sql"), sql);
    console.log(`wrote ${dir}/migration.sql`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
