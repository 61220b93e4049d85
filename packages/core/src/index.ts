// The public surface of @runengine/core: what apps and other packages may import. Anything not
// listed here (planMutation, applyMutations, assertNever...) is internal to core's systems.

export {
  ConfigError,
  ConflictError,
  InvalidTransitionError,
  LockAcquisitionTimeoutError,
  NonRetryableError,
  NotFoundError,
  RunEngineError,
  RunEngineErrorCode,
  StaleSnapshotError,
  ValidationError,
  type RunEngineErrorOptions,
} from "./errors/index.ts";

export {
  assertTransition,
  canShowRunStatus,
  canTransition,
  executionStatuses,
  executionTransitions,
  finalRunStatuses,
  initialExecutionStatuses,
  runStatusesByExecutionStatus,
  taskRunStatuses,
} from "./state-machine/transitions.ts";
export {
  executionStatusesShowing,
  holdsConcurrency,
  isCancellable,
  isDequeueable,
  isExecuting,
  isFinalExecutionStatus,
  isFinalRunStatus,
  isOnWorker,
  isWaiting,
} from "./state-machine/statuses.ts";
export { runStatusFromError, TaskRunErrorCode } from "./state-machine/runStatusFromError.ts";

export { engineConfig, engineSettings, roleConfig, startEngineForRole, type EngineConfig, type RoleConfig } from "./config/index.ts";
export {
  databaseConfig,
  lockConfig,
  logConfig,
  logLevels,
  parseConfig,
  parseConfigOrExit,
  redisConfig,
  runLockerSettings,
  type DatabaseConfig,
  type LockConfig,
  type LogConfig,
  type LogLevel,
  type RedisConfig,
} from "./config/index.ts";

export { createLogger, logEvent, runLogger, type CreateLoggerOptions, type Logger, type RunLogContext } from "./logging/logger.ts";
export { runEngineEventDescriptions, runEngineEvents, type RunEngineEvent, type RunEngineEventMap } from "./logging/events.ts";

export {
  RunLocker,
  runLockDefaults,
  runLockResource,
  type LockWaitReport,
  type RunLockerOptions,
  type RunLockerSettings,
} from "./locking/runLocker.ts";

export {
  SnapshotSystem,
  type HistoryOptions,
  type MutateOptions,
  type SnapshotSystemOptions,
} from "./snapshots/snapshotSystem.ts";
export type { CreateRunData, InitialSnapshot, RunState, RunUpdate, SnapshotChange } from "./snapshots/types.ts";
export { runCountsByStatus, runStatusWhere } from "./snapshots/runStatusQueries.ts";

export { RunEngine } from "./engine.ts";
export { createEngine, type CreateEngineOptions, type EngineHandle } from "./createEngine.ts";
export { defaultEngineSettings, type EngineResources, type EngineSettings, type HeartbeatTimeouts } from "./systems/resources.ts";
export type { HeartbeatAction, WorkerReport } from "./systems/attemptSystem.ts";
export type { ListRunsQuery } from "./systems/readSystem.ts";
export type { BatchTriggerItem, TriggerInput, TriggerResult } from "./systems/triggerSystem.ts";
export type { RegisterWorkerRequest, WorkerContext } from "./systems/workerSystem.ts";

export {
  authenticateApiKey,
  createEnvironment,
  hashApiKey,
  type AuthenticatedEnvironment,
  type CreateEnvironmentInput,
} from "./environments/apiKeys.ts";

export { createCachedAuthenticator, type CachedAuthenticatorOptions } from "./environments/cachedAuthenticator.ts";
export { HeartbeatStore } from "./heartbeats/heartbeatStore.ts";
export { HeartbeatMonitor, type HeartbeatMonitorOptions, type TickResult } from "./heartbeats/heartbeatMonitor.ts";
export { Reconciler, type ReconcileResult, type ReconcilerOptions } from "./reconcile/reconciler.ts";
export type { RepairKind } from "./reconcile/slotRepairs.ts";

export {
  DispatchClient,
  dispatchRelayKeys,
  dispatchRequestSchema,
  publishWorkAvailable,
  type DispatchRelayKeys,
  type DispatchRequest,
} from "./dispatch/dispatchRelay.ts";
export { DispatchServer, type DispatchServerOptions } from "./dispatch/dispatchServer.ts";

export { jobCatalog, jobQueues, type JobName, type JobPayload, type JobQueueName } from "./jobs/catalog.ts";
export { createJobWorker, jobDeferrer, JobProducer, type DeferJob, type JobHandlers, type JobQueuesOptions, type ScheduledJobName } from "./jobs/queues.ts";
export { createFinalizerWorker } from "./jobs/finalizerWorker.ts";
export { createSchedulerWorker, schedulerJobHandlers } from "./jobs/schedulerWorker.ts";
export { OverdueRunSweep, type OverdueRunSweepOptions, type SweepResult } from "./systems/overdueRunSweep.ts";

export { isTimeZone, nextTick } from "./schedules/cron.ts";
export { ScheduleSystem, type ListSchedulesQuery } from "./schedules/scheduleSystem.ts";
export { ScheduleTicks, scheduledRunIdempotencyKey, type ScheduleTicksOptions, type TickOutcome } from "./schedules/scheduleTicks.ts";

export { nextRetryDelayMs } from "./retrying/backoff.ts";
export { runService, type RunServiceOptions, type ServiceHandle } from "./process/service.ts";
export { startIntervalLoop } from "./process/intervalLoop.ts";
export { EngineMetrics } from "./metrics/engineMetrics.ts";
export { runFilterSchema, runFilterToJson, type RunFilter } from "./operators/runFilter.ts";
export type { RunDetail, RunSummary, TimelineStep } from "./operators/runInspector.ts";
export type { ConcurrencyKeyView, EnvironmentQueuesView, QueueView } from "./operators/queueConsole.ts";
export * from "./schemas/index.ts";
