import type { Prisma } from "@runengine/database";
import { NotFoundError } from "../errors/runEngineError.ts";
import type { TriggerOptions } from "../schemas/trigger.ts";
import type { EngineResources } from "./resources.ts";
import type { TriggerResult, TriggerSystem } from "./triggerSystem.ts";

export interface ReplayOptions {
  /** the first line of the new run's history; says who replayed it */
  description?: string;
  /** makes the replay happen once however often it is asked (a retried bulk action chunk) */
  idempotencyKey?: string;
}

/**
 * Replays a run: a new run of the same task with the same payload and options (queue, concurrency
 * key, priority, attempts, tags, metadata), whose `replayedFromRunId` names the original. The
 * original is not changed. Its idempotency key is not reused: it would return the original.
 */
export class ReplaySystem {
  constructor(
    private readonly resources: EngineResources,
    private readonly triggers: TriggerSystem,
  ) {}

  async replay(runId: string, options: ReplayOptions = {}): Promise<TriggerResult> {
    const run = await this.resources.prisma.taskRun.findUnique({ where: { id: runId }, include: { environment: true } });
    if (!run) throw new NotFoundError("TaskRun", runId);
    const { environment } = run;
    const triggerOptions: TriggerOptions = {
      queue: run.queue,
      priority: run.priority,
      tags: run.tags,
      ...(run.concurrencyKey === null ? {} : { concurrencyKey: run.concurrencyKey }),
      ...(run.maxAttempts === null ? {} : { maxAttempts: run.maxAttempts }),
      ...(isRecord(run.metadata) ? { metadata: run.metadata } : {}),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    };
    return this.triggers.trigger({
      environment: {
        id: environment.id,
        organizationId: environment.organizationId,
        name: environment.name,
        type: environment.type,
        concurrencyLimit: environment.concurrencyLimit,
      },
      taskId: run.taskIdentifier,
      payload: run.payload ?? undefined,
      options: triggerOptions,
      replayOf: { runId, description: options.description ?? `Replay of run ${runId}` },
    });
  }
}

function isRecord(value: Prisma.JsonValue): value is Prisma.JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
