import type { RunStatus } from "../runStatus.ts";
import type { AnyTask, OutputOf, PayloadOf } from "../task.ts";

export type PayloadFor<TTask> = TTask extends AnyTask ? PayloadOf<TTask> : unknown;
export type OutputFor<TTask> = TTask extends AnyTask ? OutputOf<TTask> : unknown;

/** Why the last attempt failed, as the worker reported it. */
export interface RunError {
  name: string;
  message: string;
  stack?: string;
  [field: string]: unknown;
}

/** A run as the api reports it. Typed by its task when the client knows it. */
export interface Run<TTask extends AnyTask | undefined = undefined> {
  id: string;
  taskId: string;
  status: RunStatus;
  attemptCount: number;
  payload: PayloadFor<TTask>;
  /** the task's return value once the run COMPLETED_SUCCESSFULLY, else null */
  output: OutputFor<TTask> | null;
  error: RunError | null;
  queue?: string;
  tags: string[];
  metadata: unknown;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  /** a DELAYED run is queued at this instant (delay, debounce) */
  delayUntil: Date | null;
  /** a queued run not dequeued by then expires (ttl) */
  expiresAt: Date | null;
  /** fields the api sends beyond these pass through */
  [field: string]: unknown;
}

/** One state the run passed through (an execution snapshot). */
export interface RunSnapshot {
  id: string;
  executionStatus: string;
  runStatus: RunStatus;
  /** why the run entered this state */
  description: string;
  attemptNumber: number | null;
  previousSnapshotId: string | null;
  createdAt: Date;
  [field: string]: unknown;
}
