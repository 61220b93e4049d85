import { durationSchema } from "@runengine/core/schemas";
import type { CreateTokenInput, WaitpointToken } from "./client/waitpointClient.ts";
import type { WaitpointResult } from "./runtime/journal.ts";
import { currentRuntime } from "./runtime/runContext.ts";
import { performWait } from "./runtime/performWait.ts";
import { step } from "./step.ts";

/** How long `wait.for` waits: units that add up, or one duration ("3s", "10m", or milliseconds). */
export type WaitForOptions = { seconds?: number; minutes?: number; hours?: number; days?: number } | { duration: string | number };

/** An error a wait ended with (a token's timeout, a child run's failure), as the engine recorded it. */
export interface WaitError {
  name: string;
  message: string;
  [field: string]: unknown;
}

/** What a wait on a token (or a child run) ended with. */
export type WaitResult<T> = { ok: true; output: T } | { ok: false; error: WaitError };

/** A waitpoint's outcome as a `WaitResult`. */
export function waitResult<T>(result: WaitpointResult): WaitResult<T> {
  if (!result.isError) return { ok: true, output: result.output as T };
  const error = typeof result.output === "object" && result.output !== null ? (result.output as Record<string, unknown>) : {};
  return {
    ok: false,
    error: { ...error, name: typeof error.name === "string" ? error.name : "Error", message: typeof error.message === "string" ? error.message : String(result.output) },
  };
}

function durationMs(options: WaitForOptions): number {
  if ("duration" in options) return durationSchema.parse(options.duration);
  const { seconds = 0, minutes = 0, hours = 0, days = 0 } = options;
  const ms = Math.round(((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1_000);
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError("wait.for needs a duration of zero or more");
  return ms;
}

async function until(date: Date, id: string): Promise<void> {
  if (Number.isNaN(date.getTime())) throw new RangeError(`${id} needs a valid date`);
  await performWait(currentRuntime(id), id, { kind: "datetime", until: date });
}

/**
 * Waits inside a task. Each wait is recorded in the run's journal: a run resumed from a checkpoint
 * replays its task, and the waits it already passed return at once with what they returned then.
 * A wait that ends within the worker's checkpoint threshold keeps the run on its worker; any
 * longer wait checkpoints it, so the run holds no worker slot and no concurrency while it waits.
 */
export const wait = {
  /** Waits for a span of time: `wait.for({ seconds: 30 })`, `wait.for({ duration: "10m" })`. */
  for(options: WaitForOptions): Promise<void> {
    return until(new Date(Date.now() + durationMs(options)), "wait.for");
  },

  /** Waits until `date` (returns at once for a date in the past). */
  until(date: Date): Promise<void> {
    return until(date, "wait.until");
  },

  /**
   * A token the task can wait on with `wait.forToken` and anyone can complete over the api
   * (`client.waitpoints.completeToken`). Created once per run: a replay returns the same token.
   */
  createToken(input: CreateTokenInput = {}): Promise<WaitpointToken & { isCached: boolean }> {
    const runtime = currentRuntime("wait.createToken");
    return step.run("wait.createToken", () => runtime.api.createToken(input));
  },

  /** Waits until the token is completed (`{ ok: true, output }`) or times out (`{ ok: false, error }`). */
  async forToken<T = unknown>(token: string | { id: string }): Promise<WaitResult<T>> {
    const tokenId = typeof token === "string" ? token : token.id;
    const { results } = await performWait(currentRuntime("wait.forToken"), "wait.forToken", { kind: "token", tokenId });
    return waitResult<T>(results[0]!);
  },
};
