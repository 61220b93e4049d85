import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import type { EngineResources } from "./resources.ts";

/**
 * Runs parked as PENDING_VERSION (no deployment had their task when they were dequeued) go back to
 * their queue as soon as a worker registers with their task.
 */
export class PendingVersionSystem {
  constructor(private readonly resources: EngineResources) {}

  async promote(environment: AuthenticatedEnvironment, taskIds: readonly string[]): Promise<number> {
    const { prisma, snapshots, runQueue, locker } = this.resources;
    const parked = await prisma.taskRun.findMany({
      where: { environmentId: environment.id, pendingVersionTask: { in: [...taskIds] } },
      select: { id: true },
    });
    let promoted = 0;
    for (const { id } of parked) {
      await locker.lock(id, async () => {
        const latest = await snapshots.latestSnapshot(id);
        if (latest?.executionStatus !== "RUN_CREATED" || latest.runStatus !== "PENDING_VERSION") return;
        const state = await snapshots.mutate(id, {
          expectedSnapshotId: latest.id,
          executionStatus: "QUEUED",
          runStatus: "PENDING",
          description: "A worker with this task registered; queued again",
        });
        await runQueue.enqueue({
          runId: id,
          orgId: state.run.organizationId,
          envId: state.run.environmentId,
          queue: state.run.queue,
          ...(state.run.concurrencyKey ? { concurrencyKey: state.run.concurrencyKey } : {}),
          priority: state.run.priority,
        });
        promoted++;
      });
    }
    if (promoted > 0) await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
    return promoted;
  }
}
