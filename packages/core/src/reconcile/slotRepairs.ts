import type { ExecutionSnapshot } from "@runengine/database";
import { heartbeatTimeoutMs } from "../heartbeats/heartbeatDeadline.ts";
import { holdsConcurrency, isFinalExecutionStatus } from "../state-machine/statuses.ts";
import type { EngineResources } from "../systems/resources.ts";
import { queueMessage } from "../systems/runQueueEntry.ts";
import type { LiveRunRow } from "./liveRuns.ts";

/** What one repair changed, named for the repairs metric (`runengine_reconciler_repairs_total{kind}`). */
export type RepairKind =
  /** an in-flight queue entry of a final run: its slot was freed */
  | "leaked-slot"
  /** an in-flight queue entry of a run Postgres does not know: its slot was freed */
  | "unknown-run"
  /** an in-flight queue entry of a run no worker holds (queued, suspended, waiting for a version) */
  | "stray-slot"
  /** a run a worker holds had no slot in the queue: it holds one again */
  | "lost-slot"
  /** a run a worker holds had no heartbeat deadline: it has one again */
  | "lost-heartbeat"
  /** a queued run the queue did not know: queued again */
  | "lost-queued"
  /** a delayed run whose job was gone: its job was placed again */
  | "lost-delayed";

/**
 * Frees the slot of an in-flight queue entry whose run no worker holds, deciding under the run's
 * lock, so a finalize or dequeue of the run cannot interleave. `confirmedSnapshotId` is the
 * snapshot the caller saw the run in on an earlier pass: a non-final run is repaired only if it is
 * still in that snapshot (a run is briefly QUEUED and in flight between a dequeue and its lock).
 */
export async function freeStraySlot(
  resources: EngineResources,
  envId: string,
  runId: string,
  confirmedSnapshotId: string | undefined,
): Promise<RepairKind | undefined> {
  const { locker, snapshots, runQueue } = resources;
  return locker.lock(runId, async () => {
    const latest = await snapshots.latestSnapshot(runId);
    if (!latest) return (await runQueue.ack(runId, { envId })) ? "unknown-run" : undefined;
    if (isFinalExecutionStatus(latest.executionStatus)) return (await runQueue.ack(runId, { envId })) ? "leaked-slot" : undefined;
    if (holdsConcurrency(latest.executionStatus) || latest.id !== confirmedSnapshotId) return undefined;
    const explanation = await runQueue.explain(runId);
    if (explanation.state !== "inFlight") return undefined;
    switch (latest.executionStatus) {
      case "QUEUED":
        // It must run: back to its queue, where a dispatcher takes it as any other queued run.
        await runQueue.nack(runId, { envId });
        break;
      case "SUSPENDED":
        // Resuming enqueues or reacquires a released run; it must stay known to the queue.
        await runQueue.release(runId, { envId });
        break;
      default:
        await runQueue.ack(runId, { envId });
    }
    return "stray-slot";
  });
}

/**
 * Gives a run a worker holds back what Redis lost: its slot in the queue (in flight, counted
 * against its limits) and its heartbeat deadline (a fresh one, so a worker that died meanwhile is
 * found within one timeout). Decided under the run's lock on its newest snapshot.
 */
export async function restoreHeldRun(resources: EngineResources, run: LiveRunRow): Promise<RepairKind[]> {
  const { locker, snapshots, runQueue } = resources;
  return locker.lock(run.runId, async () => {
    const latest = await snapshots.latestSnapshot(run.runId);
    if (!latest || !holdsConcurrency(latest.executionStatus)) return [];
    const repairs: RepairKind[] = [];
    const explanation = await runQueue.explain(run.runId);
    if (explanation.state === "unknown") {
      const restored = await runQueue.restoreInFlight({
        ...queueMessage(run.runId, run, run.attemptNumber),
        consumerId: latest.workerId ?? "reconciler",
      });
      if (restored) repairs.push("lost-slot");
    }
    if (await trackLostDeadline(resources, run.environmentId, latest)) repairs.push("lost-heartbeat");
    return repairs;
  });
}

/**
 * Gives a run a worker holds a heartbeat deadline when it has none: Redis lost it, or the process
 * that committed the run's state died before tracking it. `confirmedSnapshotId` is the snapshot the
 * caller saw without a deadline on an earlier pass, so a commit whose deadline is on its way is not
 * counted. Decided under the run's lock.
 */
export async function restoreLostHeartbeat(
  resources: EngineResources,
  environmentId: string,
  runId: string,
  confirmedSnapshotId: string,
): Promise<RepairKind | undefined> {
  return resources.locker.lock(runId, async () => {
    const latest = await resources.snapshots.latestSnapshot(runId);
    if (latest?.id !== confirmedSnapshotId || !holdsConcurrency(latest.executionStatus)) return undefined;
    return (await trackLostDeadline(resources, environmentId, latest)) ? "lost-heartbeat" : undefined;
  });
}

/** Tracks a fresh deadline for the run's newest snapshot if its status has one and Redis has none. */
async function trackLostDeadline(resources: EngineResources, environmentId: string, latest: ExecutionSnapshot): Promise<boolean> {
  const { heartbeats, settings } = resources;
  const entry = { environmentId, runId: latest.runId, snapshotId: latest.id };
  const timeout = heartbeatTimeoutMs(latest.executionStatus, settings.heartbeatTimeouts);
  if (timeout === undefined || (await heartbeats.deadlineOf(entry)) !== null) return false;
  await heartbeats.track(entry, null, Date.now() + timeout);
  return true;
}
