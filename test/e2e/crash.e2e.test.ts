import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine } from "./engineFixture.ts";

let e: E2EEngine;
beforeAll(async () => {
  // Heartbeat deadlines far beyond the test: a CRASHED run can only come from the worker's report.
  e = await E2EEngine.start("e2e_crash", { HEARTBEAT_EXECUTING_TIMEOUT_MS: "120000", HEARTBEAT_MONITOR_INTERVAL_MS: "200" });
});
afterAll(async () => {
  await e?.close();
});

describe("a worker process that dies of an exception no task caught", () => {
  test("reports its running attempt as crashed: the run ends CRASHED at once, and the process exits 1", async () => {
    const worker = await e.startWorker("doomed", 1);
    const { id } = await e.client.trigger("crash-in-timer", null, { maxAttempts: 1 });

    const run = await e.client.runs.poll(id, { intervalMs: 100, timeoutMs: 20_000 });
    expect(await worker.exited).toBe(1);
    expect(run.status).toBe("CRASHED");
    expect(run.error).toMatchObject({ name: "WorkerCrashedError", code: "TASK_RUN_CRASHED", message: expect.stringContaining("index out of range in a timer") });
    const history = await e.client.runs.history(id);
    expect(history.snapshots.map((s) => `${s.executionStatus}/${s.runStatus}`)).toEqual([
      "QUEUED/PENDING",
      "PENDING_EXECUTING/DEQUEUED",
      "EXECUTING/EXECUTING",
      "FINISHED/CRASHED",
    ]);
    await expect.poll(async () => (await e.runQueue.stats({ envId: e.environment.id })).inFlight, { timeout: 5_000 }).toBe(0);
  });
});
