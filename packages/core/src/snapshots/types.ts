import type { ExecutionSnapshot, ExecutionStatus, Prisma, TaskRun, TaskRunStatus } from "@runengine/database";

/** The run columns holding JSON: they take any JSON value, or Prisma's JSON null. */
type RunJsonColumn = "payload" | "debounce" | "metadata" | "output" | "error";

/**
 * Columns of a run that an operation may change together with its status (never the status, the
 * id or the timestamps the engine keeps), as plain values: they are written by hand-written SQL.
 */
export type RunUpdate = Partial<
  Omit<TaskRun, "id" | "status" | "createdAt" | "updatedAt" | RunJsonColumn> & {
    [column in RunJsonColumn]: Prisma.InputJsonValue | typeof Prisma.JsonNull | null;
  }
>;

/** A new run's columns; its status comes from the first snapshot. */
export type CreateRunData = Omit<Prisma.TaskRunUncheckedCreateInput, "status" | "snapshots">;

/** The first snapshot of a run. */
export interface InitialSnapshot {
  executionStatus: ExecutionStatus;
  runStatus: TaskRunStatus;
  /** why the run is in this state, for people reading the history */
  description: string;
  attemptNumber?: number | null;
}

/**
 * One change of a run, as an operation asks for it. For attemptNumber, workerId and checkpointId,
 * undefined keeps the previous snapshot's value and null clears it: an attempt's worker and number
 * stay on its snapshots until an operation says otherwise.
 */
export interface SnapshotChange {
  /**
   * The snapshot the caller acted on (from a worker report or a job payload). When given and not
   * the run's newest valid snapshot, the change is refused with StaleSnapshotError.
   */
  expectedSnapshotId?: string;
  executionStatus: ExecutionStatus;
  runStatus: TaskRunStatus;
  description: string;
  attemptNumber?: number | null;
  workerId?: string | null;
  checkpointId?: string | null;
  /** waitpoints whose completion this snapshot carries to the worker, in order */
  completedWaitpointIds?: readonly string[];
  /** other run columns written in the same transaction */
  runUpdate?: RunUpdate;
}

/**
 * What deciding a run's next state reads of its newest valid snapshot: a whole row, or these
 * columns as a reader of it passed them on (a job carries them from the api to the finalizer).
 */
export type SnapshotView = Pick<ExecutionSnapshot, "id" | "runId" | "environmentId" | "executionStatus" | "runStatus" | "attemptNumber" | "workerId" | "checkpointId">;

/** A run and the snapshot that now describes it. */
export interface RunState {
  run: TaskRun;
  snapshot: ExecutionSnapshot;
}

/** A snapshot row to insert, fully decided. */
export interface SnapshotWrite {
  runId: string;
  environmentId: string;
  executionStatus: ExecutionStatus;
  runStatus: TaskRunStatus;
  description: string;
  isValid: boolean;
  error: string | null;
  attemptNumber: number | null;
  workerId: string | null;
  checkpointId: string | null;
  previousSnapshotId: string | null;
  completedWaitpointIds: readonly string[];
}

/**
 * A valid change, computed and ready to write: nothing in it depends on reading the database
 * again, so several plans (for different runs) can be written in one transaction.
 */
export interface MutationPlan {
  runId: string;
  from: ExecutionStatus;
  /** the newest valid snapshot the plan was computed from; the write checks it still is */
  basedOnSnapshotId: string;
  snapshot: SnapshotWrite;
  runUpdate: RunUpdate & { status: TaskRunStatus };
}
