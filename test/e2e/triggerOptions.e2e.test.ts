import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * Trigger options a user can observe: priority, runs waiting for a worker version with their task,
 * idempotency keys under concurrent triggers, and a batch of 1,000 in one call. The tests share one
 * engine and run in order: the first two control which workers exist.
 */
let e: E2EEngine;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_trigger_options", { HEARTBEAT_EXECUTING_TIMEOUT_MS: "6000", HEARTBEAT_MONITOR_INTERVAL_MS: "200" });
});
afterAll(async () => {
  await e?.close();
});

const statusOf = async (id: string) => (await e.client.runs.retrieve(id)).status;

describe("trigger options end to end", () => {
  test("priority: a run triggered last with priority starts before the older normal runs of its queue, which keep their order", async () => {
    // The deployment must exist before its tasks can be triggered; then no worker runs while the queue fills.
    const registrar = await e.startWorker("registrar", 1);
    registrar.child.kill("SIGTERM");
    expect(await registrar.exited).toBe(0);

    const normal = [];
    for (let i = 0; i < 8; i++) normal.push(await e.client.trigger("ordered", { label: `normal-${i}` }));
    const urgent = await e.client.trigger("ordered", { label: "urgent" }, { priority: 60 });

    const worker = await e.startWorker("ordered-worker", 4);
    for (const run of [...normal, urgent]) expect((await e.client.runs.poll(run.id, { intervalMs: 100, timeoutMs: 30_000 })).status).toBe("COMPLETED_SUCCESSFULLY");
    const order = await e.redis.lrange(`${e.prefix}ordered`, 0, -1);
    expect(order).toEqual(["urgent", ...normal.map((_, i) => `normal-${i}`)]);

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("a run no live worker can execute waits as PENDING_VERSION, and completes once a worker with its task registers", async () => {
    const other = await e.startWorker("echo-only", 2, { tasksFile: "echoOnly.ts", version: "echo-only-1" });
    const { id } = await e.client.trigger("echo", { value: 7 });
    await waitFor(async () => (await statusOf(id)) === "PENDING_VERSION", 20_000);
    const parked = await e.client.runs.history(id);
    expect(parked.snapshots.at(-1)).toMatchObject({ executionStatus: "RUN_CREATED", runStatus: "PENDING_VERSION" });

    await e.startWorker("late", 10, { version: "e2e-2" });
    const run = await e.client.runs.poll(id, { intervalMs: 100, timeoutMs: 30_000 });
    expect(run).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { echoed: 7 } });
    const statuses = (await e.client.runs.history(id)).snapshots.map((s) => s.runStatus);
    expect(statuses.slice(0, 3)).toEqual(["PENDING", "PENDING_VERSION", "PENDING"]);
    other.child.kill("SIGTERM");
    await other.exited;
  });

  test("20 concurrent triggers with one idempotency key make one run, and every caller gets its id", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => e.client.trigger("echo", { value: i }, { idempotencyKey: "order-4711", tags: ["idempotency"] })),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => !r.isCached)).toHaveLength(1);
    const page = await e.client.runs.list({ taskId: "echo", limit: 100 });
    expect(page.data.filter((run) => run.idempotencyKey === "order-4711")).toHaveLength(1);
    expect((await e.client.runs.poll([...ids][0]!, { intervalMs: 100, timeoutMs: 30_000 })).status).toBe("COMPLETED_SUCCESSFULLY");
  });

  test("a 1,000-item batch lands in one call, and its status turns COMPLETED once every run finished", async () => {
    const items = Array.from({ length: 1_000 }, (_, i) => ({ payload: { value: i } }));
    const startedAt = Date.now();
    const { batchId, runs } = await e.client.batchTrigger("echo", items);
    const callMs = Date.now() - startedAt;
    console.log(`1,000-item batch trigger: ${callMs} ms for the call`);
    expect(runs).toHaveLength(1_000);
    expect(new Set(runs.map((r) => r.id)).size).toBe(1_000);

    const pending = await e.client.batches.retrieve(batchId);
    expect(pending).toMatchObject({ id: batchId, taskId: "echo", runCount: 1_000 });
    // ~30 runs/s of echo on an idle 2-core machine; the margin is for a loaded one
    await waitFor(async () => (await e.client.batches.retrieve(batchId)).status === "COMPLETED", 240_000, 1_000);
    console.log(`1,000-item batch: every run final ${Date.now() - startedAt} ms after the call began`);
    expect((await e.client.batches.retrieve(batchId)).runsByStatus).toEqual({ COMPLETED_SUCCESSFULLY: 1_000 });
    const sample = await e.client.runs.retrieve(runs[999]!.id);
    expect(sample).toMatchObject({ batchId, output: { echoed: 999 } });
  }, 300_000);

  test("a batch is another environment's 404", async () => {
    const { batchId } = await e.client.batchTrigger("echo", [{ payload: { value: 1 } }]);
    const other = await e.createEnvironment("other");
    const response = await fetch(`${e.engine.apiUrl}/api/v1/batches/${batchId}`, { headers: { authorization: `Bearer ${other.apiKey}` } });
    expect(response.status).toBe(404);
  });
});
