import type { ExecutionStatus, Prisma } from "@runengine/database";
import type { JobPayload } from "../jobs/catalog.ts";
import type { DeferJob } from "../jobs/queues.ts";
import { trackHeartbeat } from "../heartbeats/heartbeatDeadline.ts";
import { logEvent, runLogger } from "../logging/logger.ts";
import type { RunError } from "./finalizeSystem.ts";
import type { EngineResources } from "./resources.ts";
import { removeFromQueue } from "./runQueueEntry.ts";
import { completeRunWaitpoint } from "../waitpoints/waitpointSystem.ts";

/**
 * Where a TTL can strike: waiting in the queue, or parked for a worker version. A dequeued run
 * (PENDING_EXECUTING) holds a slot and a worker is about to start it, so it is not expired there.
 */
const expirableStatuses: ReadonlySet<ExecutionStatus> = new Set(["QUEUED", "RUN_CREATED"]);

/**
 * TTL expiry. A run triggered with `ttl` must start an attempt within it, counted from when
 * it first entered the queue (for a delayed run: when it became due, not when it was triggered).
 * `enqueueRun` arms one `expireRun` job at `expiresAt`; when it fires on a run that is still
 * waiting and has never started an attempt, the run ends EXPIRED (TTL_EXPIRED) and leaves the queue.
 * A run that is dequeued for a worker when its TTL passes is left alone; should it come back to
 * the queue without having started an attempt, the scheduler's OverdueRunSweep re-arms its
 * expiry and it expires then.
 */
export class TtlSystem {
  constructor(private readonly resources: EngineResources) {}

  /** The scheduler's handler for job `expireRun`. `defer` moves the job when it fired early. */
  async expire({ runId }: JobPayload<"expireRun">, defer?: DeferJob): Promise<void> {
    const { locker, snapshots, prisma, logger } = this.resources;
    await locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      const run = await prisma.taskRun.findUnique({ where: { id: runId }, select: { ttl: true, expiresAt: true, startedAt: true } });
      if (!latest || !run || !expirableStatuses.has(latest.executionStatus) || run.startedAt !== null || run.expiresAt === null) {
        logEvent(runLogger(logger, { runId }), "debug", "job:skipped", { job: "expireRun", executionStatus: latest?.executionStatus ?? null });
        return;
      }
      if (run.expiresAt.getTime() > Date.now()) {
        if (defer) await defer(run.expiresAt);
        return;
      }
      const message = `not started within ttl ${run.ttl ?? "(unknown)"}`;
      const error: RunError = { name: "TtlExpired", message: `Run ${message}`, code: "TTL_EXPIRED" };
      await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "FINISHED",
          runStatus: "EXPIRED",
          description: `Expired: ${message}`,
          runUpdate: { completedAt: new Date(), error: error as unknown as Prisma.InputJsonValue },
        },
        {
          afterCommit: async (state) => {
            await trackHeartbeat(this.resources, state);
            await removeFromQueue(this.resources.runQueue, runId);
            await completeRunWaitpoint(this.resources, state.run);
          },
        },
      );
    });
  }
}
