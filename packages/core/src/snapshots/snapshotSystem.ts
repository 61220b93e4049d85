import { sqlPool, type ExecutionSnapshot, type PrismaClient } from "@runengine/database";
import type { Logger } from "pino";
import { NotFoundError } from "../errors/runEngineError.ts";
import type { RunLocker } from "../locking/runLocker.ts";
import { logEvent, runLogger } from "../logging/logger.ts";
import { assertTransition } from "../state-machine/transitions.ts";
import { recordRefusal } from "./applyMutations.ts";
import { MutationWriter } from "./mutationWriter.ts";
import { newRunId, newSnapshotId } from "../systems/ids.ts";
import { insertRunsWithSnapshots, insertRunWithSnapshot } from "./insertRecords.ts";
import { planMutation } from "./planMutation.ts";
import { latestSnapshotRow } from "./runRows.ts";
import type { CreateRunData, InitialSnapshot, RunState, SnapshotChange, SnapshotView } from "./types.ts";

export interface SnapshotSystemOptions {
  prisma: PrismaClient;
  locker: RunLocker;
  logger: Logger;
}

export interface MutateOptions {
  /**
   * Side effects of the change (Redis: enqueue, ack, heartbeat deadlines...), run after the
   * transaction committed and while the run lock is still held, so no other operation on the run
   * sees the new snapshot before its side effects exist. `signal` fires if the lock was lost.
   * An error here reaches the caller; the committed change stays.
   */
  afterCommit?: (state: RunState, signal: AbortSignal) => Promise<void>;
  /**
   * The run's newest valid snapshot as the caller read it, under the run's lock or while taking
   * it, so that it is not read twice. The write checks it is still the newest (StaleSnapshotError
   * otherwise, nothing written), which is what makes a read made while taking the lock safe.
   */
  latest?: SnapshotView;
}

export interface HistoryOptions {
  /** include refused changes (isValid = false), which are never part of the run's state */
  includeInvalid?: boolean;
}

/**
 * The single way a run changes. Every later system (enqueue, dequeue, attempts, retries,
 * waitpoints, cancel...) decides what the next state is and calls `mutate`, which locks the run,
 * reads its newest snapshot, checks the transition table, and writes the run and a new snapshot in
 * one statement (shared with concurrent changes of other runs: see MutationWriter).
 */
export class SnapshotSystem {
  private readonly prisma: PrismaClient;
  private readonly locker: RunLocker;
  private readonly logger: Logger;
  private readonly writer: MutationWriter;

  constructor({ prisma, locker, logger }: SnapshotSystemOptions) {
    this.prisma = prisma;
    this.locker = locker;
    this.logger = logger;
    this.writer = new MutationWriter(sqlPool(prisma));
  }

  /**
   * Creates a run and its first snapshot in one statement. No lock: until this commits, no other
   * operation can know the run. Throws InvalidTransitionError (nothing written) when the initial
   * status is not one a run may start in.
   */
  async createRun(data: CreateRunData, initial: InitialSnapshot): Promise<RunState> {
    const runId = data.id ?? newRunId();
    assertTransition(runId, null, initial.executionStatus, initial.runStatus);
    const now = new Date();
    const snapshotId = newSnapshotId();
    const state = await insertRunWithSnapshot(
      this.prisma,
      // Prisma writes an empty list for an omitted list column, and reads NULL back as one
      { createdAt: now, tags: [], ...data, id: runId, status: initial.runStatus, latestSnapshotId: snapshotId, updatedAt: now },
      firstSnapshotRow(snapshotId, { id: runId, environmentId: data.environmentId }, initial, now),
    );
    logEvent(runLogger(this.logger, { runId: state.run.id }), "info", "run:created", {
      snapshotId: state.snapshot.id,
      executionStatus: state.snapshot.executionStatus,
      runStatus: state.snapshot.runStatus,
    });
    return state;
  }

  /**
   * Creates many runs, each with its first snapshot, in one transaction: all or none. Two INSERT
   * statements whatever the count (rows travel as one JSON array each), where Prisma's createMany
   * costs seconds of CPU for a thousand rows. Every run starts in `initial`; a run id that exists
   * already fails the whole transaction.
   */
  async createRuns(rows: readonly (CreateRunData & { id: string; environmentId: string })[], initial: InitialSnapshot): Promise<void> {
    if (rows.length === 0) return;
    assertTransition(rows[0]!.id, null, initial.executionStatus, initial.runStatus);
    const now = new Date();
    const snapshots = rows.map((row) => firstSnapshotRow(newSnapshotId(), row, initial, now));
    await insertRunsWithSnapshots(
      this.prisma,
      rows.map((row, i) => ({ ...row, status: initial.runStatus, latestSnapshotId: snapshots[i]!.id, createdAt: now, updatedAt: now })),
      snapshots,
    );
    for (const snapshot of snapshots) {
      logEvent(runLogger(this.logger, { runId: snapshot.runId }), "info", "run:created", {
        snapshotId: snapshot.id,
        executionStatus: initial.executionStatus,
        runStatus: initial.runStatus,
      });
    }
  }

  /**
   * Moves run `runId` to a new state under its lock (reentrant: callers already holding it, to read
   * and decide first, do not wait). Throws, writing nothing to the run:
   * - NotFoundError when the run does not exist;
   * - StaleSnapshotError when `change.expectedSnapshotId` is not the newest valid snapshot (no row
   *   is written at all);
   * - InvalidTransitionError when the table refuses the change (an invalid snapshot is recorded);
   * - LockAcquisitionTimeoutError when the run stayed locked by another operation.
   */
  async mutate(runId: string, change: SnapshotChange, options: MutateOptions = {}): Promise<RunState> {
    return this.locker.lock(runId, async (signal) => {
      const latest = options.latest?.runId === runId ? options.latest : await this.latestSnapshot(runId);
      if (latest === null) throw new NotFoundError("TaskRun", runId);
      const log = runLogger(this.logger, { runId, snapshotId: latest.id, ...attemptOf(latest) });
      const planned = planMutation(latest, change);

      if (planned.kind === "stale") {
        logEvent(log, "debug", "snapshot:rejected", {
          expectedSnapshotId: planned.error.expectedSnapshotId,
          latestSnapshotId: planned.error.latestSnapshotId,
        });
        throw planned.error;
      }
      if (planned.kind === "refused") {
        const invalid = await recordRefusal(this.prisma, planned.record);
        logEvent(log, "warn", "transition:refused", {
          invalidSnapshotId: invalid.id,
          from: latest.executionStatus,
          to: change.executionStatus,
          runStatus: change.runStatus,
          reason: planned.error.message,
        });
        throw planned.error;
      }

      const state = await this.writer.write(planned.plan);
      logEvent(log, "info", "run:mutated", {
        newSnapshotId: state.snapshot.id,
        from: latest.executionStatus,
        to: state.snapshot.executionStatus,
        runStatus: state.snapshot.runStatus,
        description: state.snapshot.description,
      });
      await options.afterCommit?.(state, signal);
      return state;
    });
  }

  /** The run's state: its newest valid snapshot (by sequence), or null when the run does not exist. */
  async latestSnapshot(runId: string): Promise<ExecutionSnapshot | null> {
    return latestSnapshotRow(this.prisma, runId);
  }

  /** The run's snapshots, oldest first. */
  async history(runId: string, { includeInvalid = false }: HistoryOptions = {}): Promise<ExecutionSnapshot[]> {
    return this.prisma.executionSnapshot.findMany({
      where: includeInvalid ? { runId } : { runId, isValid: true },
      orderBy: { sequence: "asc" },
    });
  }
}

/** The row of a new run's first snapshot. */
function firstSnapshotRow(id: string, run: { id: string; environmentId: string }, initial: InitialSnapshot, now: Date) {
  return {
    id,
    runId: run.id,
    environmentId: run.environmentId,
    executionStatus: initial.executionStatus,
    runStatus: initial.runStatus,
    description: initial.description,
    isValid: true,
    attemptNumber: initial.attemptNumber ?? null,
    createdAt: now,
  };
}

function attemptOf(snapshot: SnapshotView): { attempt?: number } {
  return snapshot.attemptNumber === null ? {} : { attempt: snapshot.attemptNumber };
}
