import { Prisma } from "@runengine/database";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { NotFoundError, ValidationError } from "../errors/runEngineError.ts";
import type { TriggerOptions } from "../schemas/trigger.ts";
import { mapConcurrently } from "../utils/mapConcurrently.ts";
import { formatDurationMs } from "../schemas/duration.ts";
import type { CreateRunData, InitialSnapshot, RunState } from "../snapshots/types.ts";
import { jsonColumn } from "../utils/jsonColumn.ts";
import { DebounceSystem, type StoredDebounce } from "./debounceSystem.ts";
import { delayedSnapshot, DelayedRunSystem } from "./delayedRunSystem.ts";
import { newRunId } from "./ids.ts";
import { isReservedIdempotencyKey, reservedIdempotencyKeyPrefix, waitChildKey } from "./waitChildKeys.ts";
import { enqueueRun, enqueueRuns, type QueueableRun } from "./runQueueEntry.ts";
import type { EngineResources } from "./resources.ts";
import type { WorkerSystem } from "./workerSystem.ts";

export interface TriggerInput {
  environment: AuthenticatedEnvironment;
  taskId: string;
  /** undefined for a task that takes no input: stored as null */
  payload?: unknown;
  options?: TriggerOptions;
  /** the batch this run is item `index` of */
  batch?: { id: string; index: number };
  /** the run this one replays, and the first line of its history saying so */
  replayOf?: { runId: string; description: string };
  /** the schedule whose tick triggered this run */
  scheduleId?: string;
  /** the run that triggered this one from its task code (triggerAndWait) */
  parent?: ParentRun;
}

/** A run's parent, as its child records it. */
export interface ParentRun {
  runId: string;
  rootRunId: string;
  /** the child's depth: the parent's + 1 */
  depth: number;
  /** the parent waits on the child's RUN waitpoint */
  resumeParentOnCompletion: boolean;
  /**
   * The position in the parent's journal of the wait that triggers the child. With it, the wait's
   * children are idempotent: the parent's retried attempt reaching the same wait gets them back.
   */
  waitJournalIndex?: number;
}

export interface BatchTriggerItem {
  payload?: unknown;
  options?: TriggerOptions;
}

export interface TriggerResult {
  id: string;
  /** true when an idempotency key matched an existing run, which is returned instead */
  isCached: boolean;
}

/**
 * Items of one batch created at once: enough to keep a 1,000-item batch well under a second, few
 * enough to leave the database pool to the other requests.
 */
const batchTriggerConcurrency = 8;

/**
 * Creates runs: the TaskRun row and its first snapshot in one transaction, then the run queue
 * entry and a wake-up for waiting dispatchers (QUEUED), or the job that queues it when due
 * (DELAYED: `delay`, or a `debounce` window, which may return a waiting run instead). A task no deployment of the environment has ever
 * declared is refused (NotFoundError): almost always a typo, never work that could run.
 */
export class TriggerSystem {
  private readonly delayedRuns: DelayedRunSystem;
  private readonly debounces: DebounceSystem;

  constructor(
    private readonly resources: EngineResources,
    private readonly workers: WorkerSystem,
  ) {
    this.delayedRuns = new DelayedRunSystem(resources);
    this.debounces = new DebounceSystem(resources, this.delayedRuns);
  }

  async trigger(input: TriggerInput): Promise<TriggerResult> {
    const { environment, taskId, payload, options = {} } = input;
    this.checkItem(payload, options);

    const idempotencyKey = idempotencyKeyOf(input);
    if (idempotencyKey) {
      const existing = await this.findByIdempotencyKey(environment.id, taskId, idempotencyKey);
      if (existing) return { id: existing, isCached: true };
    }

    const declaredQueue = await this.workers.declaredQueue(environment.id, taskId);
    if (declaredQueue === undefined) throw new NotFoundError("Task", taskId);
    const queue = options.queue ?? declaredQueue;
    const { debounce } = options;
    if (debounce) {
      const { id, joined } = await this.debounces.trigger({ environment, taskId, payload, options, debounce }, async (delayUntil, window) => {
        return (await this.create(input, queue, { delayUntil, debounce: window })).id;
      });
      return { id, isCached: joined };
    }
    return this.create(input, queue, options.delay === undefined ? undefined : { delayUntil: options.delay });
  }

  /**
   * Writes the run and its first snapshot — DELAYED with a due-time job when `delayed`, else QUEUED
   * and in the run queue (with its TTL armed).
   */
  private async create(input: TriggerInput, queue: string, delayed?: Delayed): Promise<TriggerResult> {
    const { environment, taskId } = input;
    const row = runRow(input, queue, new Date(), delayed);
    let created: RunState;
    try {
      created = await this.resources.snapshots.createRun(row, initialSnapshot(input, delayed));
    } catch (error) {
      // Two triggers with one idempotency key raced: the loser returns the winner's run.
      if (row.idempotencyKey && isUniqueViolation(error)) {
        const winner = await this.findByIdempotencyKey(environment.id, taskId, row.idempotencyKey);
        if (winner) return { id: winner, isCached: true };
      }
      throw error;
    }

    if (delayed) await this.delayedRuns.schedule(row.id, delayed.delayUntil);
    else await enqueueRun(this.resources, created.run);
    return { id: row.id, isCached: false };
  }

  /**
   * Triggers every item as a run of one batch. All or nothing at validation: an invalid item
   * (field named `items.<i>.…`) refuses the whole batch before anything is written. A parent's
   * wait re-issued by its retried attempt gets the batch its earlier attempt made, with the runs
   * already made in their places; only items missing from it are triggered.
   */
  async batchTrigger(
    environment: AuthenticatedEnvironment,
    taskId: string,
    items: readonly BatchTriggerItem[],
    parent?: ParentRun,
  ): Promise<{ batchId: string; runs: TriggerResult[] }> {
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
    const declaredQueue = await this.workers.declaredQueue(environment.id, taskId);
    if (declaredQueue === undefined) throw new NotFoundError("Task", taskId);
    const batch = await this.batchOf(environment.id, taskId, items.length, parent);
    const made = batch.reused ? await this.runsOfBatch(batch.id) : new Map<number, string>();
    const inputs: TriggerInput[] = items.map((item, index) => ({
      environment,
      taskId,
      payload: item.payload,
      options: item.options ?? {},
      batch: { id: batch.id, index },
      ...(parent ? { parent } : {}),
    }));
    const missing = inputs.filter((input) => !made.has(input.batch!.index));
    // Items that only queue a run are written together; an idempotency key, a delay or a debounce
    // key needs the single-run path, which may return another run or not queue at all.
    const plain = missing.filter((input) => !needsSingleTrigger(input.options ?? {}));
    const now = new Date();
    const rows = plain.map((input) => runRow(input, input.options?.queue ?? declaredQueue, now));
    await this.resources.snapshots.createRuns(rows, {
      executionStatus: "QUEUED",
      runStatus: "PENDING",
      description: `Run was triggered in batch ${batch.id} and queued`,
    });
    await enqueueRuns(this.resources, rows);

    const runs = new Array<TriggerResult>(items.length);
    made.forEach((id, index) => (runs[index] = { id, isCached: true }));
    plain.forEach((input, i) => (runs[input.batch!.index] = { id: rows[i]!.id, isCached: false }));
    const single = missing.filter((input) => needsSingleTrigger(input.options ?? {}));
    await mapConcurrently(single, batchTriggerConcurrency, async (input) => {
      runs[input.batch!.index] = await this.trigger(input);
    });
    return { batchId: batch.id, runs };
  }

  /** A new batch row, or the one a parent's earlier attempt made for the same wait (`reused`). */
  private async batchOf(environmentId: string, taskIdentifier: string, runCount: number, parent?: ParentRun): Promise<{ id: string; reused: boolean }> {
    const { prisma } = this.resources;
    const idempotencyKey = parent?.waitJournalIndex === undefined ? null : waitChildKey(parent.runId, parent.waitJournalIndex);
    const existing = () =>
      idempotencyKey ? prisma.batch.findUnique({ where: { environmentId_idempotencyKey: { environmentId, idempotencyKey } }, select: { id: true } }) : null;
    const earlier = await existing();
    if (earlier) return { id: earlier.id, reused: true };
    try {
      const batch = await prisma.batch.create({
        data: { environmentId, taskIdentifier, runCount, parentRunId: parent?.runId ?? null, idempotencyKey },
        select: { id: true },
      });
      return { id: batch.id, reused: false };
    } catch (error) {
      // two requests for one wait raced: the loser fills in the winner's batch
      const winner = isUniqueViolation(error) ? await existing() : null;
      if (winner) return { id: winner.id, reused: true };
      throw error;
    }
  }

  /** The runs already made for a batch, by their index in it. */
  private async runsOfBatch(batchId: string): Promise<Map<number, string>> {
    const runs = await this.resources.prisma.taskRun.findMany({ where: { batchId }, select: { id: true, batchIndex: true } });
    return new Map(runs.flatMap((run) => (run.batchIndex === null ? [] : [[run.batchIndex, run.id] as const])));
  }

  private checkItem(payload: unknown, options: TriggerOptions): void {
    if (options.idempotencyKey !== undefined && isReservedIdempotencyKey(options.idempotencyKey)) {
      throw new ValidationError("options.idempotencyKey", `keys starting with "${reservedIdempotencyKeyPrefix}" are reserved for the engine`);
    }
    if (options.delay !== undefined && options.debounce !== undefined) {
      throw new ValidationError("options.delay", "delay and debounce do not combine: debounce.delay sets when the run starts");
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

/** A Prisma unique-constraint violation (P2002): a concurrent writer got there first. */
/** A unique constraint refused the write: through Prisma (P2002), or hand-written SQL on pg (23505). */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === "P2002";
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
}

/** How a run starts later than now: a `delay`, or a debounce window (with its stored state). */
interface Delayed {
  delayUntil: Date;
  debounce?: StoredDebounce;
}

/**
 * The key a trigger is idempotent under: the caller's own, else, for a child of a parent's wait,
 * the wait's (see waitChildKeys.ts).
 */
function idempotencyKeyOf({ options, parent, batch }: TriggerInput): string | undefined {
  if (options?.idempotencyKey) return options.idempotencyKey;
  if (parent?.waitJournalIndex === undefined) return undefined;
  return waitChildKey(parent.runId, parent.waitJournalIndex, batch?.index);
}

/** Options that make a trigger more than "write the run and queue it". */
function needsSingleTrigger(options: TriggerOptions): boolean {
  return options.idempotencyKey !== undefined || options.delay !== undefined || options.debounce !== undefined;
}

/** The TaskRun row of a new run, as its trigger options describe it. */
function runRow(input: TriggerInput, queue: string, now: Date, delayed?: Delayed): CreateRunData & QueueableRun {
  const { environment, taskId, payload, options = {}, batch, replayOf, scheduleId, parent } = input;
  return {
    id: newRunId(),
    organizationId: environment.organizationId,
    environmentId: environment.id,
    taskIdentifier: taskId,
    payload: jsonColumn(payload),
    queue,
    concurrencyKey: options.concurrencyKey ?? null,
    priority: options.priority ?? 0,
    idempotencyKey: idempotencyKeyOf(input) ?? null,
    idempotencyKeyExpiresAt: options.idempotencyKey && options.idempotencyKeyTTL !== undefined ? new Date(now.getTime() + options.idempotencyKeyTTL) : null,
    maxAttempts: options.maxAttempts ?? null,
    tags: options.tags ?? [],
    metadata: jsonColumn(options.metadata),
    queuedAt: delayed ? null : now,
    delayUntil: delayed?.delayUntil ?? null,
    ttl: options.ttl === undefined ? null : formatDurationMs(options.ttl),
    // a delayed run's TTL starts when it is queued (DelayedRunSystem)
    expiresAt: options.ttl === undefined || delayed ? null : new Date(now.getTime() + options.ttl),
    debounce: jsonColumn(delayed?.debounce),
    batchId: batch?.id ?? null,
    batchIndex: batch?.index ?? null,
    replayedFromRunId: replayOf?.runId ?? null,
    scheduleId: scheduleId ?? null,
    ...(parent ? { parentRunId: parent.runId, rootRunId: parent.rootRunId, depth: parent.depth, resumeParentOnCompletion: parent.resumeParentOnCompletion } : {}),
  };
}

function initialSnapshot({ replayOf, scheduleId }: TriggerInput, delayed?: Delayed): InitialSnapshot {
  if (delayed) return delayedSnapshot(delayed.delayUntil, delayed.debounce ? `Debounced (key "${delayed.debounce.key}"): delayed` : "Delayed");
  const description = replayOf?.description ?? (scheduleId ? `Run was triggered by schedule ${scheduleId} and queued` : "Run was triggered and queued");
  return { executionStatus: "QUEUED", runStatus: "PENDING", description };
}
