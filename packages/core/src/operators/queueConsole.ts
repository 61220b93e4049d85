import type { TaskQueue } from "@runengine/database";
import type { DeadLetter, QueueStats } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { ConflictError, NotFoundError } from "../errors/runEngineError.ts";
import { logEvent } from "../logging/logger.ts";
import type { EngineResources } from "../systems/resources.ts";

export interface ConcurrencyKeyView extends QueueStats {
  key: string;
}

export interface QueueView extends QueueStats {
  name: string;
  /** the limit the task code declares; `limit` differs from it while an operator's override holds */
  declaredLimit: number | null;
  limitOverridden: boolean;
  paused: boolean;
  rateLimit: { limit: number; periodMs: number; perKey: boolean } | null;
  concurrencyKeys: ConcurrencyKeyView[];
}

export interface EnvironmentQueuesView extends QueueStats {
  id: string;
  name: string;
  queues: QueueView[];
  /** the oldest dead-lettered runs, at most `deadLettersShown` */
  deadLetters: DeadLetter[];
}

const deadLettersShown = 100;

/**
 * The operators' view of the run queue and its controls: per environment, queue and concurrency
 * key, what is queued and in flight against which limit. Settings are written to Postgres (the
 * truth the queue is rebuilt from) and then applied to the run queue.
 */
export class QueueConsole {
  constructor(private readonly resources: EngineResources) {}

  async overview(): Promise<EnvironmentQueuesView[]> {
    const { prisma, runQueue } = this.resources;
    const environments = await prisma.runtimeEnvironment.findMany({
      select: { id: true, name: true, queues: { orderBy: { name: "asc" } } },
      orderBy: { createdAt: "asc" },
    });
    return Promise.all(
      environments.map(async (environment) => {
        const [stats, deadLetters, queues] = await Promise.all([
          runQueue.stats({ envId: environment.id }),
          runQueue.deadLetters({ envId: environment.id, count: deadLettersShown }),
          this.queueViews(environment.id, environment.queues),
        ]);
        return { id: environment.id, name: environment.name, ...stats, queues, deadLetters };
      }),
    );
  }

  /** One environment's queues, by name; a name given that the environment has no queue of is left out. */
  async queues(environmentId: string, names?: readonly string[]): Promise<QueueView[]> {
    const queues = await this.resources.prisma.taskQueue.findMany({
      where: { environmentId, ...(names ? { name: { in: [...names] } } : {}) },
      orderBy: { name: "asc" },
    });
    return this.queueViews(environmentId, queues, names);
  }

  /** `names`: the queues asked for, when not all of the environment's, whose keys alone are read. */
  private async queueViews(environmentId: string, queues: readonly TaskQueue[], names?: readonly string[]): Promise<QueueView[]> {
    const { runQueue } = this.resources;
    const keys = await this.liveConcurrencyKeys(environmentId, names);
    return Promise.all(
      queues.map(async (queue): Promise<QueueView> => {
        const queueKeys = keys.get(queue.name) ?? [];
        const [queueStats, ...keyStats] = await Promise.all([
          runQueue.stats({ envId: environmentId, queue: queue.name }),
          ...queueKeys.map((key) => runQueue.stats({ envId: environmentId, queue: queue.name, concurrencyKey: key })),
        ]);
        return {
          name: queue.name,
          ...(queueStats as QueueStats),
          declaredLimit: queue.declaredConcurrencyLimit,
          limitOverridden: queue.limitOverriddenAt !== null,
          paused: queue.paused,
          rateLimit:
            queue.rateLimit !== null && queue.rateLimitPeriodMs !== null ? { limit: queue.rateLimit, periodMs: queue.rateLimitPeriodMs, perKey: queue.rateLimitPerKey } : null,
          concurrencyKeys: queueKeys.map((key, index) => ({ key, ...(keyStats[index] as QueueStats) })),
        };
      }),
    );
  }

  async pause(environmentId: string, queue: string): Promise<void> {
    await this.setPaused(environmentId, queue, true);
  }

  async resume(environmentId: string, queue: string): Promise<void> {
    await this.setPaused(environmentId, queue, false);
    await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
  }

  /**
   * A queue's limit (each of its concurrency keys gets a copy) or, with no queue, the environment's;
   * null = none. A queue's limit set here overrides what its tasks declare, also for deployments
   * registering later, until `useDeclaredLimit`.
   */
  async setConcurrencyLimit(environmentId: string, queue: string | undefined, limit: number | null): Promise<void> {
    const { prisma } = this.resources;
    if (queue === undefined) {
      const { count } = await prisma.runtimeEnvironment.updateMany({ where: { id: environmentId }, data: { concurrencyLimit: limit } });
      if (count === 0) throw new NotFoundError("RuntimeEnvironment", environmentId);
    } else {
      const { count } = await prisma.taskQueue.updateMany({ where: { environmentId, name: queue }, data: { concurrencyLimit: limit, limitOverriddenAt: new Date() } });
      if (count === 0) throw new NotFoundError("TaskQueue", queue);
    }
    await this.applyLimit(environmentId, queue, limit);
  }

  /** Ends an operator's override: the queue's limit is the one its tasks declare again. */
  async useDeclaredLimit(environmentId: string, queue: string): Promise<void> {
    const { prisma } = this.resources;
    const current = await prisma.taskQueue.findUnique({ where: { environmentId_name: { environmentId, name: queue } } });
    if (!current) throw new NotFoundError("TaskQueue", queue);
    await prisma.taskQueue.update({
      where: { id: current.id },
      data: { concurrencyLimit: current.declaredConcurrencyLimit, limitOverriddenAt: null },
    });
    await this.applyLimit(environmentId, queue, current.declaredConcurrencyLimit);
  }

  private async applyLimit(environmentId: string, queue: string | undefined, limit: number | null): Promise<void> {
    await this.resources.runQueue.setConcurrencyLimit({ envId: environmentId, ...(queue === undefined ? {} : { queue }), limit });
    logEvent(this.resources.logger, "info", "queue:limitChanged", { environmentId, queue: queue ?? null, limit }, "concurrency limit changed by an operator");
    await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
  }

  /** Queues a dead-lettered run again, recording it in the run's history. */
  async redrive(runId: string): Promise<void> {
    const { snapshots, runQueue, locker } = this.resources;
    await locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      if (!latest) throw new NotFoundError("TaskRun", runId);
      if (latest.executionStatus !== "QUEUED") throw new ConflictError("runId", `run ${runId} is ${latest.executionStatus}, not waiting in the queue`);
      await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "QUEUED",
          runStatus: latest.runStatus,
          description: "Redriven from the dead-letter set by an operator",
        },
        {
          afterCommit: async () => {
            await runQueue.redrive(runId);
            await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
          },
        },
      );
    });
  }

  private async setPaused(environmentId: string, queue: string, paused: boolean): Promise<void> {
    const { prisma, runQueue, logger } = this.resources;
    const { count } = await prisma.taskQueue.updateMany({ where: { environmentId, name: queue }, data: { paused } });
    if (count === 0) throw new NotFoundError("TaskQueue", queue);
    await (paused ? runQueue.pause({ envId: environmentId, queue }) : runQueue.resume({ envId: environmentId, queue }));
    logEvent(logger, "info", paused ? "queue:paused" : "queue:resumed", { environmentId, queue }, `queue ${paused ? "paused" : "resumed"} by an operator`);
  }

  /** Concurrency keys that live (not final) runs use, per queue (of `names` if given); the queue holds no list of its keys. */
  private async liveConcurrencyKeys(environmentId: string, names?: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await this.resources.prisma.taskRun.findMany({
      where: { environmentId, ...(names ? { queue: { in: [...names] } } : {}), liveConcurrencyKey: { not: null } },
      select: { queue: true, liveConcurrencyKey: true },
      distinct: ["queue", "liveConcurrencyKey"],
      orderBy: [{ queue: "asc" }, { liveConcurrencyKey: "asc" }],
      take: 1_000,
    });
    const keys = new Map<string, string[]>();
    for (const row of rows) {
      if (row.liveConcurrencyKey === null) continue;
      keys.set(row.queue, [...(keys.get(row.queue) ?? []), row.liveConcurrencyKey]);
    }
    return keys;
  }
}
