import { createHash } from "node:crypto";
import { Prisma, sqlPool, type ExecutionSnapshot, type PrismaClient, type SqlClient, type TaskRun } from "@runengine/database";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import { newSnapshotId } from "../systems/ids.ts";
import { assertColumnName, sqlRecord } from "./insertRecords.ts";
import { rowSeparator, splitRow } from "./runRows.ts";
import type { MutationPlan, RunState, SnapshotWrite } from "./types.ts";

/** The snapshot insert for `write`, as Prisma create data. */
function snapshotCreateData(write: SnapshotWrite & { id?: string }): Prisma.ExecutionSnapshotUncheckedCreateInput {
  const { completedWaitpointIds, ...columns } = write;
  return {
    ...columns,
    completedWaitpoints: { create: completedWaitpointIds.map((waitpointId, index) => ({ index, waitpointId })) },
  };
}

/** Records a refused change: an invalid snapshot, for debugging. The run is not touched. */
export async function recordRefusal(prisma: PrismaClient, write: SnapshotWrite): Promise<ExecutionSnapshot> {
  return prisma.executionSnapshot.create({ data: snapshotCreateData(write) });
}

const snapshotColumns = [
  "id",
  "runId",
  "environmentId",
  "executionStatus",
  "runStatus",
  "description",
  "isValid",
  "error",
  "attemptNumber",
  "checkpointId",
  "workerId",
  "previousSnapshotId",
  "createdAt",
] as const;
const snapshotColumnList = snapshotColumns.map((column) => `"${column}"`).join(", ");

/**
 * Writes planned mutations (each for a different run) atomically: every run's update and its new
 * snapshot commit together or not at all. Results are in the order of `plans`.
 *
 * The run lock makes the read-then-write of each plan exclusive; the write also fences it in
 * Postgres, so a holder that lost its lock (a long pause) cannot fork a run's history: the run row
 * is updated only while its `latestSnapshotId` is still the snapshot the plan was decided from,
 * else StaleSnapshotError and nothing is written. A version column on the row itself is a fence
 * one statement can hold: when the row was changed by a transaction this statement waited for,
 * Postgres checks the condition again on the committed row.
 *
 * One statement per set of changed columns, hand-written on the pool under Prisma, in one
 * transaction. A single run's change (the write every step of every run makes) goes through
 * MutationWriter instead, which shares statements between concurrent changes of different runs.
 */
export async function applyMutations(prisma: PrismaClient, plans: readonly MutationPlan[]): Promise<RunState[]> {
  const runIds = plans.map((plan) => plan.runId);
  if (new Set(runIds).size !== runIds.length) throw new TypeError("applyMutations: at most one plan per run");
  if (plans.length === 0) return [];
  const groups = groupByColumns(plans);
  const client = await sqlPool(prisma).connect();
  try {
    await client.query("BEGIN");
    const written = new Map<string, RunState>();
    for (const group of groups) {
      for (const [runId, state] of await writeGroup(client, group)) written.set(runId, state);
    }
    const missed = plans.filter((plan) => !written.has(plan.runId));
    if (missed.length > 0) throw (await refusalsOf(client, missed)).get(missed[0]!.runId)!;
    await client.query("COMMIT");
    return plans.map((plan) => written.get(plan.runId)!);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export type Queryable = Pick<SqlClient, "query">;

/** Plans that change the same run columns share one statement. */
export function groupByColumns(plans: readonly MutationPlan[]): { columns: string[]; plans: MutationPlan[] }[] {
  const groups = new Map<string, { columns: string[]; plans: MutationPlan[] }>();
  for (const plan of plans) {
    const columns = Object.keys(plan.runUpdate).sort();
    columns.forEach(assertColumnName);
    const key = columns.join(",");
    const group = groups.get(key);
    if (group) group.plans.push(plan);
    else groups.set(key, { columns, plans: [plan] });
  }
  return [...groups.values()];
}

/**
 * One statement for plans changing the same columns: the fenced UPDATE of the runs, the INSERT of
 * the snapshots of the runs it updated, and of the waitpoints those snapshots carry. The values
 * travel as one JSON array that Postgres turns into typed records, so enums, arrays, timestamps
 * and jsonb take their own input format. The records are built once each (MATERIALIZED): inlined,
 * the planner re-built every snapshot record for every updated run, n² calls for n runs. The run
 * ids also come as an array, which the planner looks up by primary key: joined only to the JSON
 * records (100 rows as far as it can tell), a table of a few thousand runs was scanned whole.
 * Returns the runs it wrote, by id.
 */
export async function writeGroup(db: Queryable, group: { columns: string[]; plans: MutationPlan[] }): Promise<Map<string, RunState>> {
  const now = new Date();
  const assignments = [...group.columns, "latestSnapshotId", "updatedAt"].map((column) => `"${column}" = p."${column}"`).join(", ");
  const rows = group.plans.map((plan) => {
    const snapshotId = newSnapshotId();
    const { completedWaitpointIds, ...snapshotColumnValues } = plan.snapshot;
    return {
      basedOn: plan.basedOnSnapshotId,
      run: sqlRecord({ ...plan.runUpdate, id: plan.runId, latestSnapshotId: snapshotId, updatedAt: now }),
      snapshot: sqlRecord({ ...snapshotColumnValues, id: snapshotId, createdAt: now }),
      completions: completedWaitpointIds.map((waitpointId, index) => ({ snapshotId, index, waitpointId })),
    };
  });
  const result = await db.query({
    name: `re_write_runs_${createHash("sha1").update(assignments).digest("hex").slice(0, 16)}`,
    text: `WITH plan AS (SELECT value AS plan FROM jsonb_array_elements($1::jsonb)),
           runs AS MATERIALIZED (
             SELECT plan.plan->>'basedOn' AS "basedOn", p.* FROM plan, jsonb_populate_record(NULL::"TaskRun", plan.plan->'run') p),
           snapshots AS MATERIALIZED (
             SELECT s.* FROM plan, jsonb_populate_record(NULL::"ExecutionSnapshot", plan.plan->'snapshot') s),
           changed AS (
             UPDATE "TaskRun" t SET ${assignments}
               FROM runs p
              WHERE t.id = ANY($2::text[]) AND t.id = p.id AND t."latestSnapshotId" = p."basedOn"
          RETURNING t.*),
           inserted AS (
             INSERT INTO "ExecutionSnapshot" (${snapshotColumnList})
             SELECT ${snapshotColumns.map((column) => `s."${column}"`).join(", ")}
               FROM snapshots s
              WHERE s."runId" IN (SELECT id FROM changed)
          RETURNING *),
           completions AS (
             INSERT INTO "SnapshotCompletedWaitpoint" ("snapshotId", "index", "waitpointId")
             SELECT c."snapshotId", c."index", c."waitpointId"
               FROM plan, jsonb_populate_recordset(NULL::"SnapshotCompletedWaitpoint", plan.plan->'completions') c
              WHERE c."snapshotId" IN (SELECT id FROM inserted))
           SELECT changed.*, NULL AS "${rowSeparator}", inserted.*
             FROM changed JOIN inserted ON inserted."runId" = changed.id`,
    values: [JSON.stringify(rows), group.plans.map((plan) => plan.runId)],
    rowMode: "array",
  });
  const written = new Map<string, RunState>();
  for (const row of result.rows as unknown[][]) {
    const [run, snapshot] = splitRow<TaskRun, ExecutionSnapshot>(result, row);
    written.set(run.id, { run, snapshot });
  }
  return written;
}

/** Why each of `missed` was not written: a run that does not exist, or one that moved on. */
export async function refusalsOf(db: Queryable, missed: readonly MutationPlan[]): Promise<Map<string, Error>> {
  const { rows } = await db.query<{ id: string; latestSnapshotId: string | null }>({
    name: "re_latest_snapshot_ids",
    text: `SELECT id, "latestSnapshotId" FROM "TaskRun" WHERE id = ANY($1::text[])`,
    values: [missed.map((plan) => plan.runId)],
  });
  const latestByRun = new Map(rows.map((row) => [row.id, row.latestSnapshotId]));
  return new Map(
    missed.map((plan) => [
      plan.runId,
      latestByRun.has(plan.runId)
        ? new StaleSnapshotError({ runId: plan.runId, expectedSnapshotId: plan.basedOnSnapshotId, latestSnapshotId: latestByRun.get(plan.runId) ?? null })
        : new NotFoundError("TaskRun", plan.runId),
    ]),
  );
}
