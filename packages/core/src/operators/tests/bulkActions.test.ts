import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";
import { BulkActionSystem } from "../bulkActionSystem.ts";

let f: EngineFixture;
beforeAll(async () => {
  f = await startEngine("core_bulk_actions");
  await f.registerWorker([
    { id: "hello", queue: { name: "hello" }, retry: fastRetry },
    { id: "other", queue: { name: "other" }, retry: fastRetry },
  ]);
});
afterAll(async () => {
  await f.close();
});

const trigger = (taskId: string, payload: unknown, tags: string[] = []) =>
  f.handle.engine.trigger({ environment: f.environment, taskId, payload, options: { tags, maxAttempts: 2, metadata: { source: "test" } } });

async function waitUntilDone(bulkActionId: string) {
  await expect
    .poll(async () => (await f.handle.engine.bulkActions.get(bulkActionId)).status, { timeout: 30_000, interval: 100 })
    .toBe("COMPLETED");
  return f.handle.engine.bulkActions.get(bulkActionId);
}

describe("bulk actions", () => {
  test("a bulk cancel cancels every run of its filter, in chunks, and each run's history names it", async () => {
    const cancelled: string[] = [];
    for (let i = 0; i < 230; i++) cancelled.push((await trigger("hello", { i }, ["bulk-cancel"])).id);
    const untouched = (await trigger("other", { i: -1 }, ["bulk-cancel"])).id;

    const action = await f.handle.engine.bulkActions.create("CANCEL", { taskId: "hello", tag: "bulk-cancel", status: ["PENDING"] });
    expect(action.total).toBe(230);
    const done = await waitUntilDone(action.id);
    expect(done).toMatchObject({ processed: 230, failed: 0, status: "COMPLETED" });
    expect(done.completedAt).toBeInstanceOf(Date);

    const statuses = await f.db.prisma.taskRun.groupBy({ by: ["status"], where: { id: { in: cancelled } }, _count: { _all: true } });
    expect(statuses).toEqual([{ status: "CANCELED", _count: { _all: 230 } }]);
    const history = await f.handle.engine.reads.history(f.environment.id, cancelled[17]!);
    expect(history.at(-1)).toMatchObject({ runStatus: "CANCELED", executionStatus: "FINISHED", description: `Canceled by bulk action ${action.id}` });
    expect((await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: untouched } })).status).toBe("PENDING");
  });

  test("a bulk replay triggers one new run per run of the filter, and never replays its own replays", async () => {
    const originals = [(await trigger("other", { n: 1 }, ["bulk-replay"])).id, (await trigger("other", { n: 2 }, ["bulk-replay"])).id];
    const action = await f.handle.engine.bulkActions.create("REPLAY", { tag: "bulk-replay" });
    expect(action.total).toBe(2);
    await waitUntilDone(action.id);

    const replays = await f.db.prisma.taskRun.findMany({ where: { replayedFromRunId: { in: originals } }, orderBy: { createdAt: "asc" } });
    expect(replays.map((run) => run.replayedFromRunId).sort()).toEqual([...originals].sort());
    for (const replay of replays) {
      const original = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: replay.replayedFromRunId! } });
      expect(replay).toMatchObject({ taskIdentifier: "other", payload: original.payload, tags: ["bulk-replay"], maxAttempts: 2, metadata: { source: "test" }, status: "PENDING" });
      const [first] = await f.handle.engine.reads.history(f.environment.id, replay.id);
      expect(first?.description).toBe(`Replay of run ${original.id} by bulk action ${action.id}`);
    }
    // the replays carry the tag too, but were created after the action: a second pass finds nothing new
    expect(await f.db.prisma.taskRun.count({ where: { tags: { has: "bulk-replay" } } })).toBe(4);
  });

  test("a run it cannot act on is counted as failed, and the others are done", async () => {
    const ids = [(await trigger("other", { f: 1 }, ["bulk-fail"])).id, (await trigger("other", { f: 2 }, ["bulk-fail"])).id, (await trigger("other", { f: 3 }, ["bulk-fail"])).id];
    const cancelled: string[] = [];
    const system = new BulkActionSystem(f.handle.engine.resources, {
      cancel: async (runId) => {
        if (runId === ids[1]) throw new Error("refused");
        cancelled.push(runId);
      },
      replay: async () => undefined,
    });
    // created without its first job, so this test's system (not the finalizer's) handles the chunk
    const action = await f.db.prisma.bulkAction.create({ data: { type: "CANCEL", filter: { tag: "bulk-fail" }, total: 3 } });
    await system.processChunk({ bulkActionId: action.id, cursor: null });
    expect(cancelled.sort()).toEqual([ids[0], ids[2]].sort());
    expect(await system.get(action.id)).toMatchObject({ status: "COMPLETED", processed: 3, failed: 1 });
  });

  test("a chunk job delivered twice is done once", async () => {
    const ids = [(await trigger("other", { d: 1 }, ["bulk-dup"])).id];
    const action = await f.handle.engine.bulkActions.create("REPLAY", { tag: "bulk-dup" });
    await waitUntilDone(action.id);
    await f.handle.engine.bulkActions.processChunk({ bulkActionId: action.id, cursor: null });
    expect(await f.db.prisma.taskRun.count({ where: { replayedFromRunId: { in: ids } } })).toBe(1);
    expect(await f.handle.engine.bulkActions.get(action.id)).toMatchObject({ processed: 1, status: "COMPLETED" });
  });
});
