import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("batch_trigger");
  ({ workerId } = await f.registerWorker());
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;

describe("batch trigger", () => {
  test("1,000 plain items are written in one transaction and queued together, in item order, with their batch", async () => {
    // A queue that never hands out a run: the 1,000 stay queued and out of the other tests' way.
    await engine().resources.runQueue.setConcurrencyLimit({ envId: f.environment.id, queue: "held", limit: 0 });
    const items = Array.from({ length: 1_000 }, (_, i) => ({ payload: { i }, options: { tags: [`t${i % 3}`], queue: "held" } }));
    const startedAt = performance.now();
    const { batchId, runs } = await engine().batchTrigger(f.environment, "hello", items);
    console.log(`batchTrigger of 1,000 plain items: ${Math.round(performance.now() - startedAt)} ms`);
    expect(runs).toHaveLength(1_000);
    expect(new Set(runs.map((r) => r.id)).size).toBe(1_000);

    const rows = await f.db.prisma.taskRun.findMany({ where: { batchId }, orderBy: { batchIndex: "asc" } });
    expect(rows.map((r) => r.id)).toEqual(runs.map((r) => r.id));
    expect(rows[7]).toMatchObject({ payload: { i: 7 }, tags: ["t1"], status: "PENDING", queue: "held", batchIndex: 7, attemptNumber: 0, metadata: null });
    expect(await engine().reads.history(f.environment.id, rows[7]!.id)).toMatchObject([
      { executionStatus: "QUEUED", runStatus: "PENDING", description: `Run was triggered in batch ${batchId} and queued`, isValid: true },
    ]);
    expect(await f.db.prisma.executionSnapshot.count({ where: { run: { batchId }, executionStatus: "QUEUED" } })).toBe(1_000);
    expect(await engine().resources.runQueue.stats({ envId: f.environment.id, queue: "held" })).toMatchObject({ queued: 1_000 });
    expect(await engine().reads.batch(f.environment.id, batchId)).toMatchObject({ status: "PENDING", runsByStatus: { PENDING: 1_000 } });
  });

  test("items with an idempotency key or a delay take the single-run path; results stay in item order", async () => {
    const earlier = await engine().trigger({ environment: f.environment, taskId: "hello", payload: "earlier", options: { idempotencyKey: "k-1" } });
    const { batchId, runs } = await engine().batchTrigger(f.environment, "hello", [
      { payload: 0 },
      { payload: 1, options: { idempotencyKey: "k-1" } },
      { payload: 2, options: { delay: new Date(Date.now() + 60_000) } },
      { payload: 3 },
    ]);
    expect(runs[1]).toEqual({ id: earlier.id, isCached: true });
    const statuses = await Promise.all(runs.map(async (r) => (await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: r.id } })).status));
    expect(statuses).toEqual(["PENDING", "PENDING", "DELAYED", "PENDING"]);
    const indexes = await f.db.prisma.taskRun.findMany({ where: { batchId }, select: { id: true, batchIndex: true } });
    expect(new Map(indexes.map((r) => [r.id, r.batchIndex]))).toEqual(
      new Map([
        [runs[0]!.id, 0],
        [runs[2]!.id, 2],
        [runs[3]!.id, 3],
      ]),
    );
    for (const run of runs) await engine().cancel(f.environment.id, run.id);
  });

  test("runs of a batch are dequeued and run like any other; the batch is COMPLETED when all are final", async () => {
    const { batchId, runs } = await engine().batchTrigger(f.environment, "hello", [{ payload: "a" }, { payload: "b" }]);
    const dequeued = await engine().dequeueForWorker({ workerId, maxRuns: 10 });
    expect(dequeued.map((r) => r.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    for (const run of dequeued) {
      const started = await engine().startAttempt(f.environment.id, run.runId, { workerId, snapshotId: run.snapshotId });
      await engine().reportAttemptResult(f.environment.id, run.runId, { workerId, snapshotId: started.snapshotId, result: { ok: true, output: run.payload } });
    }
    await expect
      .poll(async () => (await f.db.prisma.taskRun.findMany({ where: { id: { in: runs.map((r) => r.id) } } })).map((r) => r.status), { timeout: 10_000 })
      .toEqual(["COMPLETED_SUCCESSFULLY", "COMPLETED_SUCCESSFULLY"]);
    expect(await engine().reads.batch(f.environment.id, batchId)).toMatchObject({ status: "COMPLETED", runsByStatus: { COMPLETED_SUCCESSFULLY: 2 } });
  });

  test("another environment cannot read the batch", async () => {
    const { batchId } = await engine().batchTrigger(f.environment, "hello", [{ payload: 1 }]);
    const { environment: other } = await engine().createEnvironment({ name: "other" });
    await expect(engine().reads.batch(other.id, batchId)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
