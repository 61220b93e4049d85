/**
 * What the worker logs through: an event name in `scope:verb` form (`attempt:started`) and flat
 * fields. Any logger fits behind it (pino: `(event, fields) => pino.info({ event, ...fields })`).
 */
export interface WorkerLogger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const levels = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof levels)[number];

/** One JSON object per line, by default to stdout, for container log collectors. */
export function createJsonLinesLogger(options: { write?: (line: string) => void; level?: LogLevel; base?: Record<string, unknown> } = {}): WorkerLogger {
  const write = options.write ?? writeToStdout;
  const minimum = levels.indexOf(options.level ?? "info");
  const log = (level: LogLevel) => (event: string, fields: Record<string, unknown> = {}) => {
    if (levels.indexOf(level) < minimum) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, ...options.base, event, ...fields }, jsonSafe)}\n`);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** Errors serialize to `{}` by default; keep what explains them. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, ...(value.cause ? { cause: String(value.cause) } : {}) };
  if (typeof value === "bigint") return value.toString();
  return value;
}

let stdoutBuffer = "";

function flushStdout(): void {
  if (stdoutBuffer === "") return;
  const lines = stdoutBuffer;
  stdoutBuffer = "";
  process.stdout.write(lines);
}

/**
 * Lines logged in one turn of the event loop reach stdout in one write: a busy worker logs many
 * attempts at once, and a write to a pipe costs more than making the line. Whatever is still
 * buffered when the process exits is written then (stdout writes to pipes and files are
 * synchronous).
 */
function writeToStdout(line: string): void {
  if (stdoutBuffer === "") setImmediate(flushStdout);
  stdoutBuffer += line;
}

process.on("exit", flushStdout);
