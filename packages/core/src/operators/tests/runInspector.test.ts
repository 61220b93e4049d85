import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";

let f: EngineFixture;
const ids: string[] = [];
beforeAll(async () => {
  f = await startEngine("core_run_inspector");
  await f.registerWorker([{ id: "hello", queue: { name: "hello", concurrencyLimit: 0 }, retry: fastRetry }]);
  for (let i = 0; i < 7; i++) {
    const options = { tags: [i % 2 === 0 ? "even" : "odd"], ...(i === 3 ? { idempotencyKey: "order-3" } : {}) };
    ids.push((await f.handle.engine.trigger({ environment: f.environment, taskId: "hello", payload: { i }, options })).id);
  }
  await f.handle.engine.cancel(f.environment.id, ids[0]!);
});
afterAll(async () => {
  await f.close();
});

describe("runs search", () => {
  test("pages newest first with a cursor, every run once", async () => {
    const { inspector } = f.handle.engine;
    const first = await inspector.search({}, { limit: 3 });
    expect(first.runs.map((run) => run.id)).toEqual([ids[6], ids[5], ids[4]]);
    const second = await inspector.search({}, { limit: 3, cursor: first.nextCursor! });
    const third = await inspector.search({}, { limit: 3, cursor: second.nextCursor! });
    expect([...second.runs, ...third.runs].map((run) => run.id)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
    expect(third.nextCursor).toBeNull();
    await expect(inspector.search({}, { limit: 3, cursor: "garbage" })).rejects.toMatchObject({ code: "VALIDATION", field: "cursor" });
  });

  test("filters by status, tag, idempotency key, run id, environment and time range", async () => {
    const { inspector } = f.handle.engine;
    const find = async (filter: Parameters<typeof inspector.search>[0]) => (await inspector.search(filter, { limit: 50 })).runs.map((run) => run.id);
    expect(await find({ status: ["CANCELED"] })).toEqual([ids[0]]);
    // live and final statuses are found through different indexes; together, still newest first
    expect(await find({ status: ["PENDING"] })).toEqual([ids[6], ids[5], ids[4], ids[3], ids[2], ids[1]]);
    expect(await find({ status: ["CANCELED", "PENDING"] })).toEqual([ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]]);
    expect(await find({ status: ["EXECUTING", "COMPLETED_SUCCESSFULLY"] })).toEqual([]);
    expect(await find({ tag: "odd" })).toEqual([ids[5], ids[3], ids[1]]);
    expect(await find({ idempotencyKey: "order-3" })).toEqual([ids[3]]);
    expect(await find({ runId: ids[2] })).toEqual([ids[2]]);
    expect(await find({ environmentId: "env_elsewhere" })).toEqual([]);
    expect(await find({ to: new Date(Date.now() - 3_600_000) })).toEqual([]);
    expect((await find({ from: new Date(Date.now() - 3_600_000), environmentId: f.environment.id })).length).toBe(7);
  });

  test("counts per status ignore the status filter", async () => {
    expect(await f.handle.engine.inspector.statusCounts({ status: ["CANCELED"], environmentId: f.environment.id })).toEqual({ PENDING: 6, CANCELED: 1 });
  });
});

describe("one run in depth", () => {
  test("a queued run shows its timeline and why it is not running", async () => {
    const detail = await f.handle.engine.inspector.detail(ids[4]!);
    expect(detail.run.id).toBe(ids[4]);
    expect(detail.environmentName).toBe("test");
    expect(detail.timeline.map((step) => step.snapshot.description)).toEqual(["Run was triggered and queued"]);
    expect(detail.timeline[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(detail.queue).toMatchObject({ state: "queued", blockedBy: ["queue"] });
    expect(detail.children).toEqual([]);
    expect(detail.parent).toBeNull();
  });

  test("a finished run has no queue answer and its last step no duration", async () => {
    const detail = await f.handle.engine.inspector.detail(ids[0]!);
    expect(detail.queue).toBeNull();
    expect(detail.timeline.at(-1)).toMatchObject({ durationMs: null, snapshot: { runStatus: "CANCELED" } });
    await expect(f.handle.engine.inspector.detail("run_missing")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
