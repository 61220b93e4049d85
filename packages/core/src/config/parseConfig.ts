import type { z } from "zod";
import { ConfigError } from "../errors/runEngineError.ts";

/**
 * Parses the environment with `schema` once, at process start; the only place that reads
 * `process.env`. Blank variables count as unset (so `FOO=` in a .env file gets FOO's default rather
 * than failing as an empty number). Throws `ConfigError` naming every bad variable.
 */
export function parseConfig<Schema extends z.ZodObject>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.output<Schema> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ""));
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    variable: issue.path.map(String).join(".") || "(environment)",
    message: issue.message,
  }));
  throw new ConfigError(problems, { cause: result.error });
}

/**
 * `parseConfig` for a process's entry point: a bad environment prints which variables are wrong
 * and exits 1, instead of a stack trace.
 */
export function parseConfigOrExit<Schema extends z.ZodObject>(schema: Schema, env: NodeJS.ProcessEnv = process.env): z.output<Schema> {
  try {
    return parseConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
