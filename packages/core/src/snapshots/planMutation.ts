import { InvalidTransitionError, StaleSnapshotError } from "../errors/runEngineError.ts";
import { assertTransition } from "../state-machine/transitions.ts";
import type { MutationPlan, SnapshotChange, SnapshotView, SnapshotWrite } from "./types.ts";

export type PlannedMutation =
  | { kind: "write"; plan: MutationPlan }
  | { kind: "stale"; error: StaleSnapshotError }
  /** `record` keeps the refused attempt in the history for debugging; the run is not changed */
  | { kind: "refused"; error: InvalidTransitionError; record: SnapshotWrite };

/**
 * Decides what `change` does to a run whose newest valid snapshot is `latest`, without touching the
 * database: the "compute" half of a mutation (applyMutations.ts is the "execute" half).
 */
export function planMutation(latest: SnapshotView, change: SnapshotChange): PlannedMutation {
  const runId = latest.runId;
  if (change.expectedSnapshotId !== undefined && change.expectedSnapshotId !== latest.id) {
    return {
      kind: "stale",
      error: new StaleSnapshotError({ runId, expectedSnapshotId: change.expectedSnapshotId, latestSnapshotId: latest.id }),
    };
  }

  const carried = {
    runId,
    environmentId: latest.environmentId,
    description: change.description,
    attemptNumber: change.attemptNumber === undefined ? latest.attemptNumber : change.attemptNumber,
    workerId: change.workerId === undefined ? latest.workerId : change.workerId,
    checkpointId: change.checkpointId === undefined ? latest.checkpointId : change.checkpointId,
    previousSnapshotId: latest.id,
  };

  try {
    assertTransition(runId, latest.executionStatus, change.executionStatus, change.runStatus);
  } catch (error) {
    if (!(error instanceof InvalidTransitionError)) throw error;
    return {
      kind: "refused",
      error,
      // the statuses stay as they were: an invalid snapshot records an attempt, not a state
      record: {
        ...carried,
        executionStatus: latest.executionStatus,
        runStatus: latest.runStatus,
        isValid: false,
        error: error.message,
        completedWaitpointIds: [],
      },
    };
  }

  return {
    kind: "write",
    plan: {
      runId,
      from: latest.executionStatus,
      basedOnSnapshotId: latest.id,
      snapshot: {
        ...carried,
        executionStatus: change.executionStatus,
        runStatus: change.runStatus,
        isValid: true,
        error: null,
        completedWaitpointIds: change.completedWaitpointIds ?? [],
      },
      runUpdate: { ...change.runUpdate, status: change.runStatus },
    },
  };
}
