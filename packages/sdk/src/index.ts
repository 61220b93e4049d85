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
export { schedules, type ScheduledRunPayload, type ScheduledTask, type ScheduledTaskOptions } from "./schedules.ts";
export type { CreateScheduleInput, Schedule, ScheduleClient, ScheduleInput, ScheduleListQuery, SchedulePage } from "./client/scheduleClient.ts";
export type { Queue, QueueClient, QueueLoad } from "./client/queueClient.ts";
export { finalRunStatuses, isFinalRunStatus, runStatuses, type RunStatus } from "./runStatus.ts";
export { startWorker, type RunEngineWorker, type WorkerOptions } from "./worker/startWorker.ts";
export { createJsonLinesLogger, type LogLevel, type WorkerLogger } from "./worker/workerLogger.ts";
export { MaxDurationExceededError, RunCancelledError, StaleAttemptError, WorkerCrashedError, WorkerShutdownError } from "./worker/abortReasons.ts";
export { wait, type WaitError, type WaitForOptions, type WaitResult } from "./wait.ts";
export { step, StepFailedError } from "./step.ts";
export { tasks, type TaskRunResult } from "./tasks.ts";
export { JournalMismatchError } from "./runtime/journal.ts";
export { ConcurrentWaitError } from "./runtime/performWait.ts";
export type { CreateTokenInput, WaitpointClient, WaitpointToken } from "./client/waitpointClient.ts";
