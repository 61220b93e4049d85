import type { BulkAction, BulkActionType, Prisma } from "@runengine/database";
import { NotFoundError } from "../errors/runEngineError.ts";
import { logEvent } from "../logging/logger.ts";
import { mapConcurrently } from "../utils/mapConcurrently.ts";
import type { EngineResources } from "../systems/resources.ts";
import { encodeRunCursor, pastCursor, runFilterSchema, runFilterToJson, runFilterWhere, type RunFilter } from "./runFilter.ts";

/** What a bulk action does to one run; each records the bulk action in the history of the run it touches. */
export interface BulkActionEffects {
  cancel(runId: string, reason: string): Promise<unknown>;
  /** a new run with the same task, payload and options; idempotent under `idempotencyKey` */
  replay(runId: string, options: { description: string; idempotencyKey: string }): Promise<unknown>;
}

export interface BulkActionSystemOptions {
  /** runs handled per job, so progress shows and a crash repeats at most one chunk */
  chunkSize?: number;
  /** runs of a chunk handled at once */
  parallelism?: number;
}

/**
 * Cancels or replays every run of a filter, in the background: creating the action counts the
 * runs and queues its first chunk job; each chunk job (finalizer role) handles the next runs after
 * the action's cursor, in (createdAt, id) order, and queues the next. The filter is bounded by the
 * action's creation instant, so runs created meanwhile (replays among them) are not included.
 */
export class BulkActionSystem {
  private readonly chunkSize: number;
  private readonly parallelism: number;

  constructor(
    private readonly resources: EngineResources,
    private readonly effects: BulkActionEffects,
    options: BulkActionSystemOptions = {},
  ) {
    this.chunkSize = options.chunkSize ?? 100;
    this.parallelism = options.parallelism ?? 10;
  }

  async create(type: BulkActionType, filter: RunFilter): Promise<BulkAction> {
    const { prisma, jobs, logger } = this.resources;
    const now = new Date();
    const bounded: RunFilter = { ...filter, to: filter.to && filter.to < now ? filter.to : now };
    const total = await prisma.taskRun.count({ where: runFilterWhere(bounded) });
    const action = await prisma.bulkAction.create({
      data: { type, filter: runFilterToJson(bounded), total, environmentId: filter.environmentId ?? null },
    });
    logEvent(logger, "info", "bulk:created", { bulkActionId: action.id, type, total }, `bulk ${type.toLowerCase()} of ${total} runs created`);
    await jobs.enqueue("bulkActionChunk", { bulkActionId: action.id, cursor: null }, { jobId: chunkJobId(action.id, null) });
    return action;
  }

  async get(bulkActionId: string): Promise<BulkAction> {
    const action = await this.resources.prisma.bulkAction.findUnique({ where: { id: bulkActionId } });
    if (!action) throw new NotFoundError("BulkAction", bulkActionId);
    return action;
  }

  list(take = 20): Promise<BulkAction[]> {
    return this.resources.prisma.bulkAction.findMany({ orderBy: { createdAt: "desc" }, take });
  }

  /**
   * Handles the chunk after `cursor`. A chunk whose cursor is not the action's (a retried job
   * whose chunk was already recorded) does nothing; the effects are idempotent, so a chunk cut
   * short by a crash is safely done again.
   */
  async processChunk({ bulkActionId, cursor }: { bulkActionId: string; cursor: string | null }): Promise<void> {
    const { prisma, jobs, logger } = this.resources;
    const action = await this.get(bulkActionId);
    if (action.cursor !== cursor || action.status === "COMPLETED" || action.status === "FAILED") return;
    const filter = runFilterSchema.parse(action.filter);
    const where: Prisma.TaskRunWhereInput = cursor === null ? runFilterWhere(filter) : { AND: [runFilterWhere(filter), pastCursor(cursor, "asc")] };
    const runs = await prisma.taskRun.findMany({
      where,
      select: { id: true, createdAt: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: this.chunkSize,
    });
    // Each run has its own lock, so runs of a chunk are handled side by side, a few at a time.
    const outcomes = await mapConcurrently(runs, this.parallelism, async (run) => {
      try {
        await this.apply(action, run.id);
        return true;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        logEvent(logger, "warn", "bulk:runFailed", { bulkActionId, runId: run.id, error: message }, "bulk action could not act on a run");
        return false;
      }
    });
    const failed = outcomes.filter((ok) => !ok).length;
    const last = runs.at(-1);
    const done = runs.length < this.chunkSize || !last;
    const nextCursor = last ? encodeRunCursor(last) : cursor;
    const { count } = await prisma.bulkAction.updateMany({
      where: { id: bulkActionId, cursor },
      data: {
        status: done ? "COMPLETED" : "RUNNING",
        cursor: nextCursor,
        processed: { increment: runs.length },
        failed: { increment: failed },
        ...(done ? { completedAt: new Date() } : {}),
      },
    });
    if (count === 0) return;
    if (done) {
      logEvent(logger, "info", "bulk:completed", { bulkActionId, processed: action.processed + runs.length }, "bulk action completed");
      return;
    }
    await jobs.enqueue("bulkActionChunk", { bulkActionId, cursor: nextCursor }, { jobId: chunkJobId(bulkActionId, nextCursor) });
  }

  private async apply(action: BulkAction, runId: string): Promise<void> {
    switch (action.type) {
      case "CANCEL":
        await this.effects.cancel(runId, `Canceled by bulk action ${action.id}`);
        return;
      case "REPLAY":
        await this.effects.replay(runId, { description: `Replay of run ${runId} by bulk action ${action.id}`, idempotencyKey: `bulk:${action.id}:${runId}` });
        return;
    }
  }
}

/** Deterministic, so a chunk is queued once however often its predecessor is retried. */
function chunkJobId(bulkActionId: string, cursor: string | null): string {
  return `bulk-${bulkActionId}-${cursor ?? "start"}`;
}
