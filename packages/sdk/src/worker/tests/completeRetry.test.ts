import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";

const fake = useFakeEngine();

describe("a result is not lost", () => {
  test("a complete that fails (5xx, reset connection) is retried until accepted", async () => {
    const engine = await fake.engine();
    const worker = await fake.worker(engine, [task({ id: "quick", run: () => "ok" })]);
    engine.failNext("complete", 2, { status: 503 });
    engine.failNext("complete", 1, "drop");
    engine.failNext("complete", 1, { status: 500 });
    const run = engine.enqueue("quick", null);

    await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
    const calls = engine.routeCalls("complete");
    expect(calls).toHaveLength(5);
    for (const call of calls) expect(call.body).toEqual(calls[0]!.body);
    await waitFor(() => worker.logger.entries.find((e) => e.event === "attempt:reported"));
  });

  test("a complete refused as stale (409) is not retried", async () => {
    const engine = await fake.engine();
    const worker = await fake.worker(engine, [task({ id: "late", run: () => "ok" })]);
    engine.failNext("complete", 1, { status: 409, body: { error: { code: "STALE_SNAPSHOT", message: "moved on" } } });
    engine.enqueue("late", null);

    await waitFor(() => worker.logger.entries.find((e) => e.event === "attempt:reportStale"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(engine.routeCalls("complete")).toHaveLength(1);
  });

  test("heartbeats that fail are logged and the attempt goes on", async () => {
    const engine = await fake.engine();
    const worker = await fake.worker(engine, [task({ id: "patient", run: () => new Promise((resolve) => setTimeout(() => resolve("ok"), 150)) })]);
    engine.failNext("heartbeat", 6, "drop");
    const run = engine.enqueue("patient", null);

    await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
    expect(worker.logger.entries.some((e) => e.event === "heartbeat:failed")).toBe(true);
  });
});
