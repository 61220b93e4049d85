import { z } from "zod";
import { runLockDefaults, type RunLockerSettings } from "../locking/runLocker.ts";

const milliseconds = (min: number) => z.coerce.number().int().min(min);

/** The run lock (see RunLocker): how long it lives, when it is extended, how long to wait for it. */
export const lockConfig = z
  .object({
    RUN_LOCK_DURATION_MS: milliseconds(200)
      .default(runLockDefaults.durationMs)
      .describe("Lifetime of a run lock; a crashed holder's lock frees itself after at most this long"),
    RUN_LOCK_EXTENSION_THRESHOLD_MS: milliseconds(50)
      .default(runLockDefaults.extensionThresholdMs)
      .describe("A held lock is extended when this little of its lifetime is left"),
    RUN_LOCK_RETRY_COUNT: z.coerce
      .number()
      .int()
      .min(0)
      .default(runLockDefaults.retryCount)
      .describe("Retries to take a busy lock before giving up with LockAcquisitionTimeoutError"),
    RUN_LOCK_RETRY_DELAY_MS: milliseconds(1).default(runLockDefaults.retryDelayMs).describe("Pause between retries"),
    RUN_LOCK_RETRY_JITTER_MS: milliseconds(0)
      .default(runLockDefaults.retryJitterMs)
      .describe("Random spread (±) added to each pause, so waiters do not retry in lockstep"),
    RUN_LOCK_ACQUIRE_TIMEOUT_MS: milliseconds(1)
      .default(runLockDefaults.acquireTimeoutMs)
      .describe("Longest wait for a lock, whatever the retry count"),
  })
  .refine((config) => config.RUN_LOCK_EXTENSION_THRESHOLD_MS <= config.RUN_LOCK_DURATION_MS - 100, {
    path: ["RUN_LOCK_EXTENSION_THRESHOLD_MS"],
    message: "must be at least 100 ms below RUN_LOCK_DURATION_MS",
  });
export type LockConfig = z.output<typeof lockConfig>;

/** The RunLocker settings a parsed lock config describes. */
export function runLockerSettings(config: LockConfig): RunLockerSettings {
  return {
    durationMs: config.RUN_LOCK_DURATION_MS,
    extensionThresholdMs: config.RUN_LOCK_EXTENSION_THRESHOLD_MS,
    retryCount: config.RUN_LOCK_RETRY_COUNT,
    retryDelayMs: config.RUN_LOCK_RETRY_DELAY_MS,
    retryJitterMs: config.RUN_LOCK_RETRY_JITTER_MS,
    acquireTimeoutMs: config.RUN_LOCK_ACQUIRE_TIMEOUT_MS,
  };
}
