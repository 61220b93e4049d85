import { sqlPool, type TaskRun, type Waitpoint } from "@runengine/database";
import { NotFoundError } from "../errors/runEngineError.ts";
import { finalRunStatuses } from "../state-machine/transitions.ts";
import { newWaitpointId } from "../systems/ids.ts";
import type { EngineResources } from "../systems/resources.ts";
import { keyedReader } from "../utils/keyedReader.ts";
import { isUniqueViolation } from "../systems/triggerSystem.ts";

/** What a completed waitpoint carries to the runs it blocked. */
export interface WaitpointOutcome {
  output: unknown;
  /** the output is an error: a failed child run, a timed-out token */
  isError: boolean;
}

export interface CreateTokenInput {
  timeoutAt?: Date;
  idempotencyKey?: string;
}

/**
 * Waitpoints: things a run can wait for. RUN completes when its run reaches a final state, BATCH
 * when every run of its batch has, DATETIME at an instant (a delayed job on the scheduler queue),
 * MANUAL (a token) when someone completes it or at its timeout. Completing one is a single conditional update, so it happens at
 * most once whoever races; the runs it blocked are then continued by jobs (`continueRunIfUnblocked`,
 * one per run and waitpoint), each under that run's own lock, never under the completer's.
 */
export class WaitpointSystem {
  constructor(private readonly resources: EngineResources) {}

  /** A DATETIME waitpoint; one whose instant has passed is completed at once. Its id. */
  async createDateTime(environmentId: string, until: Date): Promise<string> {
    const waitpointId = newWaitpointId();
    await sqlPool(this.resources.prisma).query({
      name: "re_insert_datetime_waitpoint",
      text: `INSERT INTO "Waitpoint" ("id", "environmentId", "type", "completedAfter") VALUES ($1, $2, 'DATETIME', $3)`,
      values: [waitpointId, environmentId, until],
    });
    const delay = until.getTime() - Date.now();
    if (delay <= 0) {
      await this.complete(waitpointId, { output: null, isError: false });
    } else {
      await this.resources.jobs.enqueue("completeDateTimeWaitpoint", { waitpointId }, { jobId: `datetime-${waitpointId}`, delay });
    }
    return waitpointId;
  }

  /** A MANUAL waitpoint (a token). With an idempotency key already used, that token is returned. */
  async createToken(environmentId: string, input: CreateTokenInput): Promise<{ token: Waitpoint; isCached: boolean }> {
    const { prisma, jobs } = this.resources;
    if (input.idempotencyKey) {
      const existing = await prisma.waitpoint.findUnique({
        where: { environmentId_idempotencyKey: { environmentId, idempotencyKey: input.idempotencyKey } },
      });
      if (existing) return { token: existing, isCached: true };
    }
    let token: Waitpoint;
    try {
      token = await prisma.waitpoint.create({
        data: { environmentId, type: "MANUAL", timeoutAt: input.timeoutAt ?? null, idempotencyKey: input.idempotencyKey ?? null },
      });
    } catch (error) {
      // two creates with one key raced: the loser returns the winner's token
      if (input.idempotencyKey && isUniqueViolation(error)) {
        const winner = await prisma.waitpoint.findUniqueOrThrow({
          where: { environmentId_idempotencyKey: { environmentId, idempotencyKey: input.idempotencyKey } },
        });
        return { token: winner, isCached: true };
      }
      throw error;
    }
    if (input.timeoutAt) {
      const delay = Math.max(0, input.timeoutAt.getTime() - Date.now());
      await jobs.enqueue("timeoutWaitpointToken", { waitpointId: token.id }, { jobId: `token-timeout-${token.id}`, delay });
    }
    return { token, isCached: false };
  }

  /** A token of the environment; NotFoundError for another environment's, or another kind of waitpoint. */
  async token(environmentId: string, tokenId: string): Promise<Waitpoint> {
    const token = await this.resources.prisma.waitpoint.findFirst({ where: { id: tokenId, environmentId, type: "MANUAL" } });
    if (!token) throw new NotFoundError("Waitpoint", tokenId);
    return token;
  }

  /** Completes a token with `data`; a token already completed (or timed out) is returned as it is. */
  async completeToken(environmentId: string, tokenId: string, data: unknown): Promise<Waitpoint> {
    await this.token(environmentId, tokenId);
    if (await this.complete(tokenId, { output: data, isError: false })) {
      await this.resources.jobs.remove("timeoutWaitpointToken", `token-timeout-${tokenId}`);
    }
    return this.token(environmentId, tokenId);
  }

  /** Handler of `timeoutWaitpointToken`: a token nobody completed in time completes with an error. */
  async timeoutToken(waitpointId: string): Promise<void> {
    const token = await this.resources.prisma.waitpoint.findUnique({ where: { id: waitpointId } });
    if (!token || token.status === "COMPLETED") return;
    const after = token.timeoutAt ? ` at ${token.timeoutAt.toISOString()}` : "";
    await this.complete(waitpointId, {
      output: { name: "WaitpointTimeoutError", message: `Token ${waitpointId} timed out${after}` },
      isError: true,
    });
  }

  /** Handler of `completeDateTimeWaitpoint`. */
  async completeDateTime(waitpointId: string): Promise<void> {
    await this.complete(waitpointId, { output: null, isError: false });
  }

  /**
   * The BATCH waitpoint of `batchId`, created on first use: it completes once every run of the
   * batch is final, with each run's id, status and output or error, in the batch's order.
   */
  async batchWaitpoint(batchId: string): Promise<Waitpoint> {
    const { prisma } = this.resources;
    const batch = await prisma.batch.findUnique({ where: { id: batchId }, select: { environmentId: true } });
    if (!batch) throw new NotFoundError("Batch", batchId);
    await prisma.waitpoint.createMany({ data: [{ environmentId: batch.environmentId, type: "BATCH", completedByBatchId: batchId }], skipDuplicates: true });
    await completeBatchWaitpointIfDone(this.resources, batchId);
    return prisma.waitpoint.findUniqueOrThrow({ where: { completedByBatchId: batchId } });
  }

  /** The RUN waitpoint of `runId` (see runWaitpoints). */
  async runWaitpoint(runId: string): Promise<Waitpoint> {
    const [waitpoint] = await this.runWaitpoints([runId]);
    if (!waitpoint) throw new NotFoundError("TaskRun", runId);
    return waitpoint;
  }

  /**
   * The RUN waitpoints of `runIds`, in their order, created on first use. No run lock is needed:
   * a run's final transition commits before it looks for its waitpoint, so either it finds the
   * waitpoint created here and completes it, or the check below, made after the create, sees the
   * run final and completes the waitpoint itself (completing is once-only, so both may try).
   */
  async runWaitpoints(runIds: readonly string[]): Promise<Waitpoint[]> {
    const { prisma } = this.resources;
    const runs = await prisma.taskRun.findMany({ where: { id: { in: [...runIds] } }, select: { id: true, environmentId: true } });
    await prisma.waitpoint.createMany({
      data: runs.map((run) => ({ environmentId: run.environmentId, type: "RUN" as const, completedByRunId: run.id })),
      skipDuplicates: true,
    });
    const finished = await prisma.taskRun.findMany({ where: { id: { in: [...runIds] }, status: { in: [...finalRunStatuses] } } });
    const pendingOfFinished = await prisma.waitpoint.findMany({
      where: { completedByRunId: { in: finished.map((run) => run.id) }, status: "PENDING" },
      select: { id: true, completedByRunId: true },
    });
    const finishedById = new Map(finished.map((run) => [run.id, run]));
    for (const waitpoint of pendingOfFinished) {
      await this.complete(waitpoint.id, runOutcome(finishedById.get(waitpoint.completedByRunId!)!));
    }
    const waitpoints = await prisma.waitpoint.findMany({ where: { completedByRunId: { in: [...runIds] } } });
    const byRun = new Map(waitpoints.map((waitpoint) => [waitpoint.completedByRunId, waitpoint]));
    return runIds.flatMap((runId) => byRun.get(runId) ?? []);
  }

  /**
   * Completes the waitpoint once: true if this call completed it, false if it was already complete
   * (or does not exist). The runs it blocks are then continued by jobs.
   */
  complete(waitpointId: string, outcome: WaitpointOutcome): Promise<boolean> {
    return completeWaitpoint(this.resources, waitpointId, outcome);
  }
}

/**
 * Called by every operation that writes a run's final state, after it committed and under the
 * run's lock: completes the run's RUN waitpoint (if a parent ever waited on it) with its output or
 * its error, so the waiting parent resumes.
 */
export async function completeRunWaitpoint(resources: EngineResources, run: TaskRun): Promise<void> {
  if (run.batchId) await completeBatchWaitpointIfDone(resources, run.batchId);
  const waitpointId = await pendingWaitpointOfRun(sqlPool(resources.prisma)).call(run.id);
  if (waitpointId) await completeWaitpoint(resources, waitpointId, runOutcome(run));
}

/**
 * Completes the batch's BATCH waitpoint, if it has a pending one and no run of the batch is left
 * unfinished. Each run's final transition commits before it calls this, so the last of several
 * runs finishing at once sees them all final (and completing is once-only).
 */
async function completeBatchWaitpointIfDone(resources: EngineResources, batchId: string): Promise<void> {
  const { prisma } = resources;
  const waitpoint = await waitpointOfBatch(sqlPool(prisma)).call(batchId);
  if (!waitpoint || waitpoint.status === "COMPLETED") return;
  const unfinished = await prisma.taskRun.count({ where: { batchId, status: { notIn: [...finalRunStatuses] } } });
  if (unfinished > 0) return;
  const runs = await prisma.taskRun.findMany({ where: { batchId }, orderBy: { batchIndex: "asc" } });
  const output = runs.map((run) => {
    const outcome = runOutcome(run);
    return { id: run.id, status: run.status, ...(outcome.isError ? { error: outcome.output } : { output: outcome.output }) };
  });
  await completeWaitpoint(resources, waitpoint.id, { output, isError: false });
}

// Every finishing run asks for its pending waitpoint, and every run of a batch for the batch's:
// most have none, and the runs finishing together share one read.
const pendingWaitpointOfRun = keyedReader(async (pool, runIds) => {
  const { rows } = await pool.query<{ id: string; runId: string }>({
    name: "re_pending_run_waitpoints",
    text: `SELECT id, "completedByRunId" AS "runId" FROM "Waitpoint" WHERE "completedByRunId" = ANY($1::text[]) AND status = 'PENDING'`,
    values: [runIds],
  });
  return new Map(rows.map((row) => [row.runId, row.id]));
});

const waitpointOfBatch = keyedReader(async (pool, batchIds) => {
  const { rows } = await pool.query<{ id: string; status: string; batchId: string }>({
    name: "re_batch_waitpoints",
    text: `SELECT id, status, "completedByBatchId" AS "batchId" FROM "Waitpoint" WHERE "completedByBatchId" = ANY($1::text[])`,
    values: [batchIds],
  });
  return new Map(rows.map((row) => [row.batchId, row]));
});

/**
 * The blocked runs are read by a second statement, after the update committed: a run that blocks
 * on the waitpoint meanwhile either is seen here or sees the waitpoint COMPLETED itself.
 */
async function completeWaitpoint(resources: EngineResources, waitpointId: string, outcome: WaitpointOutcome): Promise<boolean> {
  const { prisma, jobs, logger } = resources;
  const pool = sqlPool(prisma);
  const output = outcome.output === undefined || outcome.output === null ? null : JSON.stringify(outcome.output);
  const { rowCount } = await pool.query({
    name: "re_complete_waitpoint",
    text: `UPDATE "Waitpoint" SET status = 'COMPLETED', "completedAt" = now(), output = $2::jsonb, "outputIsError" = $3 WHERE id = $1 AND status = 'PENDING'`,
    values: [waitpointId, output, outcome.isError],
  });
  if (rowCount === 0) return false;
  const { rows: blocked } = await pool.query<{ runId: string }>({
    name: "re_runs_blocked_by_waitpoint",
    text: `SELECT DISTINCT "runId" FROM "TaskRunWaitpoint" WHERE "waitpointId" = $1`,
    values: [waitpointId],
  });
  for (const { runId } of blocked) {
    await jobs.enqueue("continueRunIfUnblocked", { runId }, { jobId: `continue-${runId}-${waitpointId}` });
  }
  logger.info({ event: "waitpoint:completed", waitpointId, isError: outcome.isError, blockedRuns: blocked.length }, "waitpoint completed");
  return true;
}

/** A final run as its waitpoint's outcome: the output, or the error with the status it ended in. */
function runOutcome(run: TaskRun): WaitpointOutcome {
  if (run.status === "COMPLETED_SUCCESSFULLY") return { output: run.output, isError: false };
  const error = typeof run.error === "object" && run.error !== null ? run.error : {};
  return {
    output: { name: "TaskRunFailed", message: `Run ${run.id} ended ${run.status}`, ...error, status: run.status, runId: run.id },
    isError: true,
  };
}
