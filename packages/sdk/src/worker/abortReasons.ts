/**
 * What `signal.reason` holds when the worker aborts a task, so task code can tell why it was
 * stopped (`signal.reason instanceof RunCancelledError`). Each is also the error reported for the
 * attempt, except StaleAttemptError, which is never reported.
 */

/** The run was cancelled while this attempt ran. */
export class RunCancelledError extends Error {
  override readonly name = "RunCancelledError";
}

/** The attempt ran longer than the task's maxDuration. */
export class MaxDurationExceededError extends Error {
  override readonly name = "MaxDurationExceededError";
}

/** The worker is shutting down and its grace period ran out before the task finished. */
export class WorkerShutdownError extends Error {
  override readonly name = "WorkerShutdownError";
}

/** The engine no longer counts this attempt as the run's (another attempt owns it, or it ended). */
export class StaleAttemptError extends Error {
  override readonly name = "StaleAttemptError";
}

/** The worker process is dying of an error no task caught (it reaches the engine as CRASHED). */
export class WorkerCrashedError extends Error {
  override readonly name = "WorkerCrashedError";
}
