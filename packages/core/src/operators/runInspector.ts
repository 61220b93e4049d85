import type { ExecutionSnapshot, Prisma, TaskRun, TaskRunStatus, Waitpoint } from "@runengine/database";
import type { Explanation, QueueStats } from "@runengine/run-queue";
import { NotFoundError } from "../errors/runEngineError.ts";
import { runCountsByStatus } from "../snapshots/runStatusQueries.ts";
import { isFinalExecutionStatus } from "../state-machine/statuses.ts";
import type { EngineResources } from "../systems/resources.ts";
import { encodeRunCursor, pastCursor, runFilterWhere, type RunFilter } from "./runFilter.ts";

/** A run in the operators' list: what a row shows, not the payload. */
export type RunSummary = Pick<
  TaskRun,
  "id" | "environmentId" | "taskIdentifier" | "status" | "queue" | "concurrencyKey" | "tags" | "idempotencyKey" | "attemptNumber" | "createdAt" | "startedAt" | "completedAt"
>;

const summaryFields = {
  id: true,
  environmentId: true,
  taskIdentifier: true,
  status: true,
  queue: true,
  concurrencyKey: true,
  tags: true,
  idempotencyKey: true,
  attemptNumber: true,
  createdAt: true,
  startedAt: true,
  completedAt: true,
} as const satisfies Prisma.TaskRunSelect;

/** One step of a run's history, with how long the run stayed in it (until now for the newest of a live run). */
export interface TimelineStep {
  snapshot: ExecutionSnapshot;
  durationMs: number | null;
}

export interface RunDetail {
  run: TaskRun;
  environmentName: string;
  timeline: TimelineStep[];
  parent: RunSummary | null;
  children: RunSummary[];
  /** the waitpoints blocking the run (TaskRunWaitpoint edges), pending ones first */
  waitpoints: { waitpoint: Waitpoint; batchIndex: number | null }[];
  /** the run queue's answer to "why isn't it running?", for a run waiting in the queue */
  queue: Explanation | null;
  /** for a run waiting in the queue: in flight against the limit of its environment, queue and concurrency key */
  limits: { environment: QueueStats; queue: QueueStats; concurrencyKey: QueueStats | null } | null;
}

const childrenShown = 100;

/**
 * Operators' reads across every environment: the runs page, its counts, and one run in depth.
 * Pages are keyset-paginated on (createdAt, id), newest first, so a page costs the same at any depth.
 */
export class RunInspector {
  constructor(private readonly resources: EngineResources) {}

  async search(filter: RunFilter, options: { cursor?: string; limit: number }): Promise<{ runs: RunSummary[]; nextCursor: string | null }> {
    const where: Prisma.TaskRunWhereInput =
      options.cursor === undefined ? runFilterWhere(filter) : { AND: [runFilterWhere(filter), pastCursor(options.cursor, "desc")] };
    const rows = await this.resources.prisma.taskRun.findMany({
      where,
      select: summaryFields,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: options.limit + 1,
    });
    const page = rows.slice(0, options.limit);
    const last = page.at(-1);
    return { runs: page, nextCursor: rows.length > options.limit && last ? encodeRunCursor(last) : null };
  }

  /** How many runs of the filter (ignoring its status) are in each status. */
  async statusCounts(filter: RunFilter): Promise<Partial<Record<TaskRunStatus, number>>> {
    const counts: Partial<Record<TaskRunStatus, number>> = {};
    for (const { status, count } of await runCountsByStatus(this.resources.prisma, runFilterWhere({ ...filter, status: undefined }))) {
      counts[status] = (counts[status] ?? 0) + count;
    }
    return counts;
  }

  /** Every environment, for the filter's choices. */
  environments(): Promise<{ id: string; name: string }[]> {
    return this.resources.prisma.runtimeEnvironment.findMany({ select: { id: true, name: true }, orderBy: { createdAt: "asc" } });
  }

  /** The environment a run belongs to, for operators' actions that go through environment-scoped operations. */
  async environmentOf(runId: string): Promise<string> {
    const run = await this.resources.prisma.taskRun.findUnique({ where: { id: runId }, select: { environmentId: true } });
    if (!run) throw new NotFoundError("TaskRun", runId);
    return run.environmentId;
  }

  async detail(runId: string): Promise<RunDetail> {
    const { prisma, snapshots, runQueue } = this.resources;
    const run = await prisma.taskRun.findUnique({ where: { id: runId }, include: { environment: { select: { name: true } } } });
    if (!run) throw new NotFoundError("TaskRun", runId);
    const { environment, ...taskRun } = run;
    const [history, parent, children, edges] = await Promise.all([
      snapshots.history(runId),
      run.parentRunId ? prisma.taskRun.findUnique({ where: { id: run.parentRunId }, select: summaryFields }) : null,
      prisma.taskRun.findMany({ where: { parentRunId: runId }, select: summaryFields, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: childrenShown }),
      prisma.taskRunWaitpoint.findMany({ where: { runId }, include: { waitpoint: true }, orderBy: { createdAt: "asc" } }),
    ]);
    const waiting = history.at(-1)?.executionStatus === "QUEUED";
    return {
      run: taskRun,
      environmentName: environment.name,
      timeline: timeline(history),
      parent,
      children,
      waitpoints: edges
        .map((edge) => ({ waitpoint: edge.waitpoint, batchIndex: edge.batchIndex }))
        .sort((a, b) => Number(a.waitpoint.status === "COMPLETED") - Number(b.waitpoint.status === "COMPLETED")),
      queue: waiting ? await runQueue.explain(runId) : null,
      limits: waiting ? await this.limitsOf(run) : null,
    };
  }

  private async limitsOf(run: Pick<TaskRun, "environmentId" | "queue" | "concurrencyKey">): Promise<RunDetail["limits"]> {
    const { runQueue } = this.resources;
    const envId = run.environmentId;
    const [environment, queue, concurrencyKey] = await Promise.all([
      runQueue.stats({ envId }),
      runQueue.stats({ envId, queue: run.queue }),
      run.concurrencyKey === null ? null : runQueue.stats({ envId, queue: run.queue, concurrencyKey: run.concurrencyKey }),
    ]);
    return { environment, queue, concurrencyKey };
  }
}

function timeline(history: ExecutionSnapshot[]): TimelineStep[] {
  const now = Date.now();
  return history.map((snapshot, index) => {
    const next = history[index + 1];
    const end = next ? next.createdAt.getTime() : isFinalExecutionStatus(snapshot.executionStatus) ? null : now;
    return { snapshot, durationMs: end === null ? null : end - snapshot.createdAt.getTime() };
  });
}
