import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "../config/logging.ts";
import type { RunEngineEvent, RunEngineEventMap } from "./events.ts";

export type { Logger } from "pino";

export interface CreateLoggerOptions {
  /** the role writing the lines ("api", "dispatcher"...): every line carries it */
  service: string;
  level: LogLevel;
  /** where lines go; stdout when omitted (tests pass a stream to read them back) */
  destination?: DestinationStream;
}

/** The root logger of a process: JSON lines, each with `service`. */
export function createLogger({ service, level, destination }: CreateLoggerOptions): Logger {
  const options = { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime };
  return destination === undefined ? pino(options) : pino(options, destination);
}

export interface RunLogContext {
  runId: string;
  snapshotId?: string;
  attempt?: number;
}

/**
 * A child logger for one run, so every line about it can be found by `runId` (and by snapshot and
 * attempt when known) without each call site remembering to add them.
 */
export function runLogger(logger: Logger, { runId, snapshotId, attempt }: RunLogContext): Logger {
  return logger.child({
    runId,
    ...(snapshotId === undefined ? {} : { snapshotId }),
    ...(attempt === undefined ? {} : { attempt }),
  });
}

type EventLevel = "trace" | "debug" | "info" | "warn" | "error";

/**
 * Logs a named engine event with its typed fields: `{ event, ...fields }`. Searching logs (or a
 * future event bus) by event name only works if the name and fields are the declared ones.
 */
export function logEvent<E extends RunEngineEvent>(
  logger: Logger,
  level: EventLevel,
  event: E,
  fields: RunEngineEventMap[E],
  message: string = event,
): void {
  // widened: pino's generic overloads cannot check a payload type that depends on E
  const line: Record<string, unknown> = { event, ...fields };
  logger[level](line, message);
}
