export { RunEngineErrorCode } from "./codes.ts";
export {
  ConfigError,
  ConflictError,
  InvalidTransitionError,
  LockAcquisitionTimeoutError,
  NonRetryableError,
  NotFoundError,
  RunEngineError,
  StaleSnapshotError,
  ValidationError,
  type RunEngineErrorOptions,
} from "./runEngineError.ts";
