export { RunQueue, type RunQueueOptions, type RunRef } from "./runQueue.ts";
export { RunQueueError, ScriptLoadError, type RunQueueErrorCode } from "./errors.ts";
export { ScriptCode, errorFromScriptCode, type ScriptCodeName } from "./codes.ts";
export {
  MAX_PRIORITY,
  type Blocker,
  type DeadLetter,
  type DequeuedMessage,
  type EnqueueMessage,
  type EnqueueResult,
  type Explanation,
  type Logger,
  type QueueMessage,
  type QueueStats,
  type ReacquireResult,
  type ReclaimResult,
  type RunState,
} from "./types.ts";
