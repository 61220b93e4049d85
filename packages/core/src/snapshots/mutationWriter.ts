import type { SqlPool } from "@runengine/database";
import { CallBatcher, type BatchedCall } from "../utils/callBatcher.ts";
import { groupByColumns, refusalsOf, writeGroup } from "./applyMutations.ts";
import type { MutationPlan, RunState } from "./types.ts";

export interface MutationWriterOptions {
  /** statements of this writer running at once; more writes wait and go out together */
  maxInFlight?: number;
  /** most runs in one statement */
  maxBatch?: number;
}

type PendingWrite = BatchedCall<MutationPlan, RunState>;

/**
 * Group commit for single-run changes. Each step of each run is one fenced statement (see
 * applyMutations.ts); what it costs Postgres is mostly the statement and its commit (the WAL
 * flush), not the rows. So while `maxInFlight` statements are running, the changes that arrive
 * wait and then go out as one statement per set of changed columns: an idle engine writes each
 * change at once, a busy one writes many runs per commit.
 *
 * Each change keeps its own outcome: runs do not commit or fail together. Every caller holds its
 * run's lock until its write settles, so two changes of one run meet here only when a lock was
 * lost; the second then waits for the next statement, which its fence refuses.
 */
export class MutationWriter {
  private readonly batcher: CallBatcher<MutationPlan, RunState>;

  constructor(
    private readonly pool: SqlPool,
    options: MutationWriterOptions = {},
  ) {
    this.batcher = new CallBatcher((writes) => this.writeBatch(writes), {
      maxInFlight: options.maxInFlight ?? 2,
      maxBatch: options.maxBatch ?? 100,
      keyOf: (plan) => plan.runId,
    });
  }

  /** Writes `plan`: its run's new state, or StaleSnapshotError / NotFoundError with nothing written. */
  write(plan: MutationPlan): Promise<RunState> {
    return this.batcher.call(plan);
  }

  private async writeBatch(batch: readonly PendingWrite[]): Promise<void> {
    const byRun = new Map(batch.map((write) => [write.input.runId, write]));
    const groups = groupByColumns(batch.map((write) => write.input));
    await Promise.all(
      groups.map(async ({ columns, plans }) => {
        const writes = plans.map((plan) => byRun.get(plan.runId)!);
        try {
          await this.writeStatement(columns, writes);
        } catch (error) {
          if (writes.length === 1) return writes[0]!.reject(error);
          // One bad change (a constraint it breaks) must not fail the others: each alone.
          await Promise.all(writes.map((write) => this.writeStatement(columns, [write]).catch(write.reject)));
        }
      }),
    );
  }

  /**
   * One statement for writes that change the same columns. Throws only when the statement failed
   * (nothing written); once it committed, every write is settled here.
   */
  private async writeStatement(columns: string[], writes: readonly PendingWrite[]): Promise<void> {
    const written = await writeGroup(this.pool, { columns, plans: writes.map((write) => write.input) });
    const missed: PendingWrite[] = [];
    for (const write of writes) {
      const state = written.get(write.input.runId);
      if (state) write.resolve(state);
      else missed.push(write);
    }
    if (missed.length === 0) return;
    try {
      const refusals = await refusalsOf(this.pool, missed.map((write) => write.input));
      for (const write of missed) write.reject(refusals.get(write.input.runId));
    } catch (error) {
      for (const write of missed) write.reject(error);
    }
  }
}
