export { RunEngineErrorCode } from "./codes.ts";
export {
  ConfigError,
  InvalidTransitionError,
  LockAcquisitionTimeoutError,
  NonRetryableError,
  NotFoundError,
  RunEngineError,
  StaleSnapshotError,
  ValidationError,
  type RunEngineErrorOptions,
} from "./runEngineError.ts";
