import { afterAll, beforeAll, expect, test } from "vitest";
import { E2EEngine } from "./engineFixture.ts";

/**
 * Runs whose payloads are near the limit, many handed to one worker at once: the dispatcher's
 * answer is then tens of MB, more than Redis lets a pub/sub subscriber (the api) fall behind by.
 */
let e: E2EEngine;
beforeAll(async () => {
  // A lost hand-over would only be noticed here, after the test's time: no requeue can mask it.
  e = await E2EEngine.start("e2e_large_payloads", { HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: "120000" });
  await e.startWorker("wide", 50);
});
afterAll(async () => {
  await e?.close();
});

test("40 runs with 1 MB payloads, handed to a worker with 50 slots in one answer, all start and finish", async () => {
  const [queue] = (await e.client.queues.list()).filter((q) => q.name === "task/echo");
  expect(queue).toBeDefined();
  // held back until all 40 are queued, so that one dequeue takes them all
  await e.client.queues.pause("task/echo");
  const blob = "y".repeat(1_000_000);
  const runs = await Promise.all(Array.from({ length: 40 }, (_, value) => e.client.trigger("echo", { value, blob } as { value: number })));
  await e.client.queues.resume("task/echo");

  const finished = await Promise.all(runs.map(({ id }) => e.client.runs.poll(id, { intervalMs: 250, timeoutMs: 60_000 })));
  finished.forEach((run, value) => {
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ echoed: value });
  });
  for (const { id } of runs.slice(0, 5)) {
    const history = await e.client.runs.history(id);
    expect(history.snapshots.map((s) => s.executionStatus)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "FINISHED"]);
  }
}, 90_000);
