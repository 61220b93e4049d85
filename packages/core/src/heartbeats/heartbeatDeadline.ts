import type { ExecutionStatus } from "@runengine/database";
import type { RunState } from "../snapshots/types.ts";
import type { EngineResources, HeartbeatTimeouts } from "../systems/resources.ts";

/** The heartbeat timeout of a status, or undefined for statuses no worker reports on. */
export function heartbeatTimeoutMs(status: ExecutionStatus, timeouts: HeartbeatTimeouts): number | undefined {
  switch (status) {
    case "PENDING_EXECUTING":
      return timeouts.pendingExecutingMs;
    case "EXECUTING":
    case "EXECUTING_WITH_WAITPOINTS":
      return timeouts.executingMs;
    case "PENDING_CANCEL":
      return timeouts.pendingCancelMs;
    case "SUSPENDED":
      return timeouts.suspendedRecheckMs;
    default:
      return undefined;
  }
}

/**
 * Points the run's heartbeat deadline at its new snapshot (or drops it). Every system calls this
 * after a mutation commits, so the monitor only ever watches the newest snapshot. Its commands go
 * out at once on the engine's own connection, the run locker's, so a lock holder may leave the
 * answer to RunLocker.withRelease.
 */
export async function trackHeartbeat({ heartbeats, settings }: Pick<EngineResources, "heartbeats" | "settings">, state: RunState): Promise<void> {
  const timeout = heartbeatTimeoutMs(state.snapshot.executionStatus, settings.heartbeatTimeouts);
  await heartbeats.track(
    { environmentId: state.run.environmentId, runId: state.run.id, snapshotId: state.snapshot.id },
    state.snapshot.previousSnapshotId,
    timeout === undefined ? undefined : Date.now() + timeout,
  );
}
