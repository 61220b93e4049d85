import type { Batch, ExecutionSnapshot, Prisma, TaskRun, TaskRunStatus } from "@runengine/database";
import { NotFoundError, ValidationError } from "../errors/runEngineError.ts";
import { isFinalRunStatus } from "../state-machine/statuses.ts";
import { runRow } from "../snapshots/runRows.ts";
import { runStatusWhere } from "../snapshots/runStatusQueries.ts";
import type { EngineResources } from "./resources.ts";

export interface ListRunsQuery {
  status?: TaskRunStatus;
  taskId?: string;
  /** the id of the last run of the previous page */
  cursor?: string;
  limit: number;
}

export interface BatchProgress {
  batch: Batch;
  /** COMPLETED once every run of the batch is in a final state */
  status: "PENDING" | "COMPLETED";
  /** runs of the batch per status, only statuses that occur */
  runsByStatus: Partial<Record<TaskRunStatus, number>>;
}

/**
 * Reads of runs, always scoped to one environment: a run of another environment is reported as
 * not found, never as forbidden, so ids do not leak across tenants.
 */
export class ReadSystem {
  constructor(private readonly resources: EngineResources) {}

  async run(environmentId: string, runId: string): Promise<TaskRun> {
    const run = await runRow(this.resources.prisma, runId);
    if (run?.environmentId !== environmentId) throw new NotFoundError("TaskRun", runId);
    return run;
  }

  /** Newest first; `nextCursor` is set when there may be more. */
  async list(environmentId: string, query: ListRunsQuery): Promise<{ runs: TaskRun[]; nextCursor: string | null }> {
    if (query.cursor !== undefined) {
      const cursorRun = await this.resources.prisma.taskRun.findFirst({ where: { id: query.cursor, environmentId }, select: { id: true } });
      if (!cursorRun) throw new ValidationError("cursor", "not a run of this environment's list");
    }
    const where: Prisma.TaskRunWhereInput = {
      environmentId,
      ...(query.status ? runStatusWhere([query.status]) : {}),
      ...(query.taskId ? { taskIdentifier: query.taskId } : {}),
    };
    const runs = await this.resources.prisma.taskRun.findMany({
      where,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    });
    const hasMore = runs.length > query.limit;
    const page = hasMore ? runs.slice(0, query.limit) : runs;
    return { runs: page, nextCursor: hasMore ? (page.at(-1)?.id ?? null) : null };
  }

  async history(environmentId: string, runId: string): Promise<ExecutionSnapshot[]> {
    await this.run(environmentId, runId);
    return this.resources.snapshots.history(runId);
  }

  /** A batch and how far its runs got, counted from the runs themselves so it is never out of date. */
  async batch(environmentId: string, batchId: string): Promise<BatchProgress> {
    const { prisma } = this.resources;
    const batch = await prisma.batch.findFirst({ where: { id: batchId, environmentId } });
    if (!batch) throw new NotFoundError("Batch", batchId);
    const groups = await prisma.taskRun.groupBy({ by: ["status"], where: { batchId }, _count: { _all: true } });
    const runsByStatus: Partial<Record<TaskRunStatus, number>> = {};
    let final = 0;
    for (const group of groups) {
      runsByStatus[group.status] = group._count._all;
      if (isFinalRunStatus(group.status)) final += group._count._all;
    }
    return { batch, status: final === batch.runCount ? "COMPLETED" : "PENDING", runsByStatus };
  }
}
