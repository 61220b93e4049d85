import { Prisma } from "@runengine/database";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { NotFoundError, ValidationError } from "../errors/runEngineError.ts";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import type { TriggerOptions } from "../schemas/trigger.ts";
import { newRunId } from "./ids.ts";
import type { EngineResources } from "./resources.ts";
import type { WorkerSystem } from "./workerSystem.ts";

export interface TriggerInput {
  environment: AuthenticatedEnvironment;
  taskId: string;
  payload: unknown;
  options?: TriggerOptions;
  /** the batch this run is item `index` of */
  batch?: { id: string; index: number };
}

export interface BatchTriggerItem {
  payload: unknown;
  options?: TriggerOptions;
}

export interface TriggerResult {
  id: string;
  /** true when an idempotency key matched an existing run, which is returned instead */
  isCached: boolean;
}

/** Options the scheduler role implements; refused until then rather than silently ignored. */
const notYetSupported = ["delay", "ttl", "debounce"] as const;

/**
 * Creates runs: the TaskRun row and its QUEUED snapshot in one transaction, then the run queue
 * entry, then a wake-up for waiting dispatchers. A task no deployment of the environment has ever
 * declared is refused (NotFoundError): almost always a typo, never work that could run.
 */
export class TriggerSystem {
  constructor(
    private readonly resources: EngineResources,
    private readonly workers: WorkerSystem,
  ) {}

  async trigger({ environment, taskId, payload, options = {}, batch }: TriggerInput): Promise<TriggerResult> {
    this.checkItem(payload, options);

    if (options.idempotencyKey) {
      const existing = await this.findByIdempotencyKey(environment.id, taskId, options.idempotencyKey);
      if (existing) return { id: existing, isCached: true };
    }

    const declaredQueue = await this.workers.declaredQueue(environment.id, taskId);
    if (declaredQueue === undefined) throw new NotFoundError("Task", taskId);
    const queue = options.queue ?? declaredQueue;
    const runId = newRunId();
    const now = new Date();
    try {
      await this.resources.snapshots.createRun(
        {
          id: runId,
          organizationId: environment.organizationId,
          environmentId: environment.id,
          taskIdentifier: taskId,
          payload: payload === undefined ? Prisma.JsonNull : (payload as Prisma.InputJsonValue),
          queue,
          concurrencyKey: options.concurrencyKey ?? null,
          priority: options.priority ?? 0,
          idempotencyKey: options.idempotencyKey ?? null,
          idempotencyKeyExpiresAt:
            options.idempotencyKey && options.idempotencyKeyTTL !== undefined ? new Date(now.getTime() + options.idempotencyKeyTTL) : null,
          maxAttempts: options.maxAttempts ?? null,
          tags: options.tags ?? [],
          metadata: options.metadata === undefined ? Prisma.JsonNull : (options.metadata as Prisma.InputJsonValue),
          queuedAt: now,
          batchId: batch?.id ?? null,
          batchIndex: batch?.index ?? null,
        },
        { executionStatus: "QUEUED", runStatus: "PENDING", description: "Run was triggered and queued" },
      );
    } catch (error) {
      // Two triggers with one idempotency key raced: the loser returns the winner's run.
      if (options.idempotencyKey && isUniqueViolation(error)) {
        const winner = await this.findByIdempotencyKey(environment.id, taskId, options.idempotencyKey);
        if (winner) return { id: winner, isCached: true };
      }
      throw error;
    }

    await this.resources.runQueue.enqueue({
      runId,
      orgId: environment.organizationId,
      envId: environment.id,
      queue,
      ...(options.concurrencyKey ? { concurrencyKey: options.concurrencyKey } : {}),
      priority: options.priority ?? 0,
    });
    await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
    return { id: runId, isCached: false };
  }

  /**
   * Triggers every item as a run of one batch. All or nothing at validation: an invalid item
   * (field named `items.<i>.…`) refuses the whole batch before anything is written.
   */
  async batchTrigger(environment: AuthenticatedEnvironment, taskId: string, items: readonly BatchTriggerItem[]): Promise<{ batchId: string; runs: TriggerResult[] }> {
    items.forEach((item, index) => {
      try {
        this.checkItem(item.payload, item.options ?? {});
      } catch (error) {
        if (error instanceof ValidationError) {
          throw new ValidationError(`items.${index}.${error.field}`, error.message.slice(error.field.length + 2));
        }
        throw error;
      }
    });
    if ((await this.workers.declaredQueue(environment.id, taskId)) === undefined) throw new NotFoundError("Task", taskId);
    const batch = await this.resources.prisma.batch.create({
      data: { environmentId: environment.id, taskIdentifier: taskId, runCount: items.length },
    });
    const runs: TriggerResult[] = [];
    for (const [index, item] of items.entries()) {
      runs.push(await this.trigger({ environment, taskId, payload: item.payload, options: item.options ?? {}, batch: { id: batch.id, index } }));
    }
    return { batchId: batch.id, runs };
  }

  private checkItem(payload: unknown, options: TriggerOptions): void {
    for (const option of notYetSupported) {
      if (options[option] !== undefined) throw new ValidationError(`options.${option}`, `${option} is not supported yet`);
    }
    const bytes = Buffer.byteLength(JSON.stringify(payload ?? null));
    if (bytes > this.resources.settings.maxPayloadBytes) {
      throw new ValidationError("payload", `payload is ${bytes} bytes; the limit is ${this.resources.settings.maxPayloadBytes}`);
    }
  }

  /** The live run holding this key, or undefined; an expired key is released for reuse. */
  private async findByIdempotencyKey(environmentId: string, taskIdentifier: string, idempotencyKey: string): Promise<string | undefined> {
    const { prisma } = this.resources;
    const existing = await prisma.taskRun.findUnique({
      where: { environmentId_taskIdentifier_idempotencyKey: { environmentId, taskIdentifier, idempotencyKey } },
      select: { id: true, idempotencyKeyExpiresAt: true },
    });
    if (!existing) return undefined;
    if (existing.idempotencyKeyExpiresAt && existing.idempotencyKeyExpiresAt <= new Date()) {
      await prisma.taskRun.updateMany({ where: { id: existing.id, idempotencyKey }, data: { idempotencyKey: null } });
      return undefined;
    }
    return existing.id;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}
