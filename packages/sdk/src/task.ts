import { z } from "zod";
import type { DeclaredSchedule, TriggerOptionsInput } from "@runengine/core/schemas";
import type { BatchItem } from "./client.ts";
import { tasks, type TaskRunResult } from "./tasks.ts";

/** How a failed attempt is retried; the engine computes each delay (exponential, with jitter). */
export interface RetryOptions {
  /** attempts in all, the first included (default 3) */
  maxAttempts?: number;
  /** growth of the delay per attempt (default 2) */
  factor?: number;
  /** delay before the second attempt (default 1,000 ms) */
  minTimeoutInMs?: number;
  /** ceiling of any delay (default 60,000 ms) */
  maxTimeoutInMs?: number;
  /** spread each delay by up to ±50% so retries of many runs do not arrive together (default true) */
  randomize?: boolean;
}

export interface QueueOptions {
  name: string;
  /** runs of this queue executing at once, across all workers; unset = only the environment's limit */
  concurrencyLimit?: number;
}

/** What a task's code knows about the attempt it runs in. */
export interface TaskRunContext {
  run: { id: string; taskId: string; tags: string[]; metadata: unknown; createdAt: Date };
  attempt: { number: number };
  queue: { name: string };
  environment: { id: string; name: string; type: "DEVELOPMENT" | "STAGING" | "PRODUCTION" };
  /** the deployment version this attempt runs on; a run resumes only on its own version */
  deployment: { id: string; version: string };
}

export interface TaskRunParams {
  ctx: TaskRunContext;
  /** fires when the run is cancelled or exceeds maxDuration: stop work and return or throw */
  signal: AbortSignal;
}

export interface TaskOptions<TPayload, TOutput> {
  id: string;
  queue?: QueueOptions;
  retry?: RetryOptions;
  /** seconds an attempt may run before it is aborted and the run ends TIMED_OUT */
  maxDuration?: number;
  run: (payload: TPayload, params: TaskRunParams) => Promise<TOutput> | TOutput;
}

export interface Task<TPayload, TOutput> {
  readonly id: string;
  readonly queue: Required<Pick<QueueOptions, "name">> & QueueOptions;
  readonly retry: Required<RetryOptions>;
  readonly maxDuration: number | undefined;
  readonly run: (payload: TPayload, params: TaskRunParams) => Promise<TOutput> | TOutput;
  /** set by `schedules.task`: the cron schedule the engine runs this task on */
  readonly schedule?: DeclaredSchedule;
  /** Inside another task's run: runs this task as a child and waits for it (`tasks.triggerAndWait`). */
  readonly triggerAndWait: (payload: TPayload, options?: TriggerOptionsInput) => Promise<TaskRunResult<TOutput>>;
  /** Inside another task's run: one child run per item, waited for together (`tasks.batchTriggerAndWait`). */
  readonly batchTriggerAndWait: (items: BatchItem<TPayload>[]) => Promise<TaskRunResult<TOutput>[]>;
}

export type AnyTask = Task<any, any>;
export type PayloadOf<T> = T extends Task<infer P, any> ? P : never;
export type OutputOf<T> = T extends Task<any, infer O> ? O : never;

export const defaultRetry: Required<RetryOptions> = {
  maxAttempts: 3,
  factor: 2,
  minTimeoutInMs: 1_000,
  maxTimeoutInMs: 60_000,
  randomize: true,
};

/** Identifiers travel in URLs and Redis keys: keep them to a safe alphabet. */
const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.\-/]+$/, "letters, digits and _ . - / only");

export const taskOptionsSchema = z.object({
  id: identifier,
  queue: z.object({ name: identifier, concurrencyLimit: z.number().int().min(0).optional() }).optional(),
  retry: z
    .object({
      maxAttempts: z.number().int().min(1).max(250).optional(),
      factor: z.number().min(1).optional(),
      minTimeoutInMs: z.number().int().min(0).optional(),
      maxTimeoutInMs: z.number().int().min(0).optional(),
      randomize: z.boolean().optional(),
    })
    .refine((r) => (r.minTimeoutInMs ?? 0) <= (r.maxTimeoutInMs ?? Number.POSITIVE_INFINITY), {
      message: "minTimeoutInMs must not exceed maxTimeoutInMs",
      path: ["minTimeoutInMs"],
    })
    .optional(),
  maxDuration: z.number().positive().optional(),
  run: z.custom<(...args: never[]) => unknown>((v) => typeof v === "function", "run must be a function"),
});

/**
 * Defines a task. The returned object is what a worker registers and what the client triggers, so
 * payload and output types flow from here to `client.trigger`. Throws a ZodError naming the bad
 * option.
 */
export function task<TPayload = unknown, TOutput = unknown>(options: TaskOptions<TPayload, TOutput>): Task<TPayload, TOutput> {
  taskOptionsSchema.parse(options);
  const defined: Task<TPayload, TOutput> = Object.freeze({
    id: options.id,
    queue: { name: `task/${options.id}`, ...options.queue },
    retry: { ...defaultRetry, ...options.retry },
    maxDuration: options.maxDuration,
    run: options.run,
    triggerAndWait: (payload: TPayload, triggerOptions?: TriggerOptionsInput) => tasks.triggerAndWait(defined, payload, triggerOptions),
    batchTriggerAndWait: (items: BatchItem<TPayload>[]) => tasks.batchTriggerAndWait(defined, items),
  });
  return defined;
}

/**
 * Whether a module export is a task. Checked by shape, not by class, because a tasks file may
 * load its own copy of the SDK.
 */
export function isTask(value: unknown): value is AnyTask {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof AnyTask, unknown>>;
  return (
    typeof candidate.id === "string" &&
    typeof candidate.run === "function" &&
    typeof candidate.queue === "object" &&
    candidate.queue !== null &&
    typeof candidate.retry === "object" &&
    candidate.retry !== null
  );
}
