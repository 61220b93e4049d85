/**
 * SQL diffs between Prisma datamodels, computed offline by the WebAssembly schema engine shipped in
 * the prisma@6 npm package (`prisma6`, a devDependency): Prisma 7's native schema engine cannot be
 * downloaded on our machines. Used to write migrations and to prove that they match schema.prisma;
 * never at run time.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

/** Prisma 6 insists on a datasource url and a generator it knows; neither affects the diff. */
function asPrisma6Datamodel(schema: string): string {
  return schema
    .replace(/generator client \{[^}]*\}/, 'generator client {\n  provider = "prisma-client-js"\n}')
    .replace(/datasource db \{/, 'datasource db {\n  url = env("DATABASE_URL")');
}

export interface SchemaDiffOptions {
  /** the datamodel the database has now; undefined = an empty database */
  from: string | undefined;
  to: string;
  /** a reachable PostgreSQL: the engine connects even for a datamodel-only diff, and writes nothing */
  databaseUrl: string;
}

export function schemaDiffSql({ from, to, databaseUrl }: SchemaDiffOptions): string {
  const work = mkdtempSync(join(tmpdir(), "runengine-schema-diff-"));
  try {
    writeFileSync(join(work, "to.prisma"), asPrisma6Datamodel(to));
    if (from !== undefined) writeFileSync(join(work, "from.prisma"), asPrisma6Datamodel(from));
    const adapterUrl = pathToFileURL(require.resolve("@prisma/adapter-pg6")).href;
    writeFileSync(
      join(work, "prisma.config.mjs"),
      `import { PrismaPg } from ${JSON.stringify(adapterUrl)};
export default {
  experimental: { adapter: true },
  engine: "js",
  schema: "to.prisma",
  adapter: async () => new PrismaPg({ connectionString: ${JSON.stringify(databaseUrl)} }),
};
`,
    );
    // Any existing file stops Prisma 6 from trying to download native engines it will not use.
    const placeholderEngine = process.execPath;
    return execFileSync(
      process.execPath,
      [
        require.resolve("prisma6/build/index.js"),
        "migrate",
        "diff",
        "--config",
        "prisma.config.mjs",
        ...(from === undefined ? ["--from-empty"] : ["--from-schema-datamodel", "from.prisma"]),
        "--to-schema-datamodel",
        "to.prisma",
        "--script",
      ],
      {
        cwd: work,
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          PRISMA_QUERY_ENGINE_LIBRARY: placeholderEngine,
          PRISMA_SCHEMA_ENGINE_BINARY: placeholderEngine,
          PRISMA_HIDE_UPDATE_MESSAGE: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    ).toString();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** True when a diff script contains statements (an empty diff is only comments). */
export function hasStatements(sql: string): boolean {
  return /^(CREATE|ALTER|DROP)/m.test(sql);
}
