import type { ExecutionStatus, TaskRunStatus } from "@runengine/database";

/**
 * Every event the engine logs, named `scope:verb`, with the fields each carries (besides the run
 * logger's runId/snapshotId/attempt). One map, so dashboards and alerts can rely on names; meanings are in
 * runEngineEventDescriptions below.
 */
export interface RunEngineEventMap {
  "run:created": { snapshotId: string; executionStatus: ExecutionStatus; runStatus: TaskRunStatus };
  /** the logger's snapshotId is the snapshot the change was decided from */
  "run:mutated": { newSnapshotId: string; from: ExecutionStatus; to: ExecutionStatus; runStatus: TaskRunStatus; description: string };
  "transition:refused": { invalidSnapshotId: string; from: ExecutionStatus; to: ExecutionStatus; runStatus: TaskRunStatus; reason: string };
  "snapshot:rejected": { expectedSnapshotId: string; latestSnapshotId: string | null };
  "lock:acquired": { resource: string; waitMs: number; attempts: number };
  "lock:timedOut": { resource: string; waitMs: number; attempts: number };
  "lock:lost": { resource: string; error: string };
  "lock:releaseFailed": { resource: string; error: string };
  "job:skipped": { job: string; executionStatus: ExecutionStatus | null };
  "bulk:created": { bulkActionId: string; type: string; total: number };
  "bulk:runFailed": { bulkActionId: string; runId: string; error: string };
  "bulk:completed": { bulkActionId: string; processed: number };
  "queue:paused": { environmentId: string; queue: string };
  "queue:resumed": { environmentId: string; queue: string };
  "queue:limitChanged": { environmentId: string; queue: string | null; limit: number | null };
}

export type RunEngineEvent = keyof RunEngineEventMap;

/**
 * What each event means, one line each. Typed as a Record so that adding an event to the map
 * without describing it here fails to compile.
 */
export const runEngineEventDescriptions: Readonly<Record<RunEngineEvent, string>> = {
  "run:created": "a run and its first snapshot were written",
  "run:mutated": "a run moved along the transition table and its new snapshot was written",
  "transition:refused": "a transition the table does not allow was asked for; recorded as an invalid snapshot",
  "snapshot:rejected": "an operation named a snapshot that is no longer the run's newest; nothing written",
  "lock:acquired": "a run lock was taken",
  "lock:timedOut": "a run lock could not be taken within its bounds",
  "lock:lost": "a held run lock could not be extended; another operation may take it",
  "lock:releaseFailed": "releasing a run lock failed; it expires by itself",
  "job:skipped": "a scheduled job found its run no longer in the state it was scheduled for; nothing done",
  "bulk:created": "an operator created a bulk cancel or replay over a filter of runs",
  "bulk:runFailed": "a bulk action could not act on one run; counted as failed, the others go on",
  "bulk:completed": "a bulk action went through every run of its filter",
  "queue:paused": "an operator paused a queue: its runs stay queued",
  "queue:resumed": "an operator resumed a paused queue",
  "queue:limitChanged": "an operator changed a queue's or an environment's concurrency limit",
};

/** Every event name (for tests, docs and log-based metrics). */
export const runEngineEvents = Object.keys(runEngineEventDescriptions) as RunEngineEvent[];
