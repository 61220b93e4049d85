export { task, defaultRetry, isTask, type Task, type AnyTask, type TaskOptions, type TaskRunContext, type TaskRunParams, type RetryOptions, type QueueOptions, type PayloadOf, type OutputOf } from "./task.ts";
export { AbortTaskRunError, serializeError, type SerializedError } from "./errors.ts";
export {
  createClient,
  RunPollTimeoutError,
  type BatchItem,
  type BatchTriggered,
  type ClientOptions,
  type PollOptions,
  type Run,
  type RunEngineClient,
  type RunError,
  type RunHandle,
  type RunListQuery,
  type RunPage,
  type RunSnapshot,
  type TriggeredRun,
  type TriggerOptions,
} from "./client.ts";
export { RunEngineApiError, RunEngineConnectionError } from "./http/apiErrors.ts";
export { finalRunStatuses, isFinalRunStatus, runStatuses, type RunStatus } from "./runStatus.ts";
export { startWorker, type RunEngineWorker, type WorkerOptions } from "./worker/startWorker.ts";
export { createJsonLinesLogger, type LogLevel, type WorkerLogger } from "./worker/workerLogger.ts";
export { MaxDurationExceededError, RunCancelledError, StaleAttemptError, WorkerShutdownError } from "./worker/abortReasons.ts";
