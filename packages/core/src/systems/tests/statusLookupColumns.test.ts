import { sqlPool } from "@runengine/database";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isFinalRunStatus } from "../../state-machine/statuses.ts";
import { taskRunStatuses } from "../../state-machine/transitions.ts";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("status_lookup_columns");
  ({ workerId } = await f.registerWorker());
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;

interface TableCounters {
  updates: number;
  hotUpdates: number;
}

/** TaskRun's update counters in this test's database, as the statistics system last heard of them. */
async function taskRunCounters(): Promise<TableCounters> {
  const { rows } = await sqlPool(f.db.prisma).query<{ updates: string; hotUpdates: string }>(
    `SELECT n_tup_upd AS "updates", n_tup_hot_upd AS "hotUpdates" FROM pg_stat_user_tables WHERE relname = 'TaskRun'`,
  );
  return { updates: Number(rows[0]!.updates), hotUpdates: Number(rows[0]!.hotUpdates) };
}

describe("TaskRun's status lookup columns", () => {
  test("the steps of runs from trigger to success touch no index of TaskRun but the final one (HOT updates)", async () => {
    const before = await taskRunCounters();
    const runCount = 10;
    const ids = await Promise.all(Array.from({ length: runCount }, async () => (await f.trigger()).id));
    const dequeued = await engine().dequeueForWorker({ workerId, maxRuns: runCount });
    expect(dequeued).toHaveLength(runCount);
    for (const run of dequeued) {
      const started = await engine().startAttempt(f.environment.id, run.runId, { workerId, snapshotId: run.snapshotId });
      await engine().reportAttemptResult(f.environment.id, run.runId, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: null } });
    }
    await expect
      .poll(() => f.db.prisma.taskRun.count({ where: { id: { in: ids }, status: "COMPLETED_SUCCESSFULLY" } }), { timeout: 10_000 })
      .toBe(runCount);

    // dequeue, start and finish: three updates per run, reported by each backend within seconds;
    // only the finish, which sets finalStatus, writes index entries
    const stepUpdates = 3 * runCount;
    await expect.poll(async () => (await taskRunCounters()).updates - before.updates, { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(stepUpdates);
    const after = await taskRunCounters();
    expect({ updates: after.updates - before.updates, hotUpdates: after.hotUpdates - before.hotUpdates }).toEqual({ updates: stepUpdates, hotUpdates: 2 * runCount });
  });

  test("each column holds its value exactly in the statuses its lookup needs", async () => {
    const { id } = await f.trigger({ concurrencyKey: "tenant-1" });
    const pool = sqlPool(f.db.prisma);
    await pool.query(`UPDATE "TaskRun" SET "delayUntil" = now(), "expiresAt" = now(), "debounce" = '{"key":"window-1"}' WHERE id = $1`, [id]);

    for (const status of taskRunStatuses) {
      for (const started of [false, true]) {
        await pool.query(`UPDATE "TaskRun" SET status = $2::"TaskRunStatus", "startedAt" = CASE WHEN $3 THEN now() END WHERE id = $1`, [id, status, started]);
        const run = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
        const set = (column: keyof typeof run) => run[column] !== null;
        expect({ status, started, columns: ["finalStatus", "delayedUntil", "delayedDebounceKey", "expiringAt", "pendingVersionTask", "liveConcurrencyKey"].filter((c) => set(c as keyof typeof run)) }).toEqual({
          status,
          started,
          columns: [
            ...(isFinalRunStatus(status) ? ["finalStatus"] : []),
            ...(status === "DELAYED" ? ["delayedUntil", "delayedDebounceKey"] : []),
            ...((status === "PENDING" || status === "PENDING_VERSION") && !started ? ["expiringAt"] : []),
            ...(status === "PENDING_VERSION" ? ["pendingVersionTask"] : []),
            ...(isFinalRunStatus(status) ? [] : ["liveConcurrencyKey"]),
          ],
        });
      }
    }
    const run = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
    await pool.query(`UPDATE "TaskRun" SET status = 'PENDING_VERSION', "startedAt" = NULL WHERE id = $1`, [id]);
    const parked = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
    expect(parked).toMatchObject({ expiringAt: run.expiresAt, pendingVersionTask: "hello", liveConcurrencyKey: "tenant-1" });
    await pool.query(`UPDATE "TaskRun" SET status = 'CRASHED' WHERE id = $1`, [id]);
    expect(await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } })).toMatchObject({ finalStatus: "CRASHED", liveConcurrencyKey: null });
    await pool.query(`UPDATE "TaskRun" SET status = 'DELAYED' WHERE id = $1`, [id]);
    expect(await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } })).toMatchObject({ delayedUntil: run.delayUntil, delayedDebounceKey: "window-1" });
  });
});
