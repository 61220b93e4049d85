import { hostname } from "node:os";
import { z } from "zod";

const workerEnvSchema = z.object({
  RUNENGINE_API_URL: z.url().describe("the api's address, e.g. http://localhost:3030"),
  RUNENGINE_API_KEY: z.string().min(1).describe("the environment's API key"),
  RUNENGINE_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(10),
  RUNENGINE_WORKER_VERSION: z.string().min(1).max(64).default("dev"),
  RUNENGINE_WORKER_NAME: z.string().min(1).max(128).default(() => `${hostname()}-${process.pid}`),
  RUNENGINE_WORKER_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  RUNENGINE_CHECKPOINT_THRESHOLD_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(5_000)
    .describe("waits ending sooner than this stay on the worker; longer ones checkpoint the run"),
  RUNENGINE_WORKER_HEARTBEAT_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2_000)
    .describe("how often a running attempt tells the engine it is alive; keep well below the engine's heartbeat timeout"),
});

export type WorkerConfig = z.output<typeof workerEnvSchema>;

/** Thrown when the environment is missing or has a bad variable; the message names each one. */
export class WorkerConfigError extends Error {
  override readonly name = "WorkerConfigError";
}

/** Reads the worker's settings from `env` once, at startup. */
export function parseWorkerConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = workerEnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.join(".");
    return env[name] === undefined ? `${name} is not set` : `${name}: ${issue.message}`;
  });
  throw new WorkerConfigError(`Invalid worker environment: ${problems.join("; ")}`);
}
