import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";
import { WorkerCrashedError } from "../abortReasons.ts";

const fake = useFakeEngine();

describe("crash()", () => {
  test("reports every running attempt as CRASHED with the fatal error, stops polling and deregisters", async () => {
    const engine = await fake.engine();
    const reasons: unknown[] = [];
    let started = 0;
    const hang = task({
      id: "hang",
      run: (_payload: null, { signal }) =>
        new Promise((_resolve, reject) => {
          started++;
          signal.addEventListener("abort", () => {
            reasons.push(signal.reason);
            reject(signal.reason);
          });
        }),
    });
    const worker = await fake.worker(engine, [hang], { concurrency: 2 });
    const runs = [engine.enqueue("hang", null), engine.enqueue("hang", null)];
    await waitFor(() => started === 2);

    await Promise.all([worker.crash(new RangeError("out of bounds in a timer")), worker.crash(new Error("second"))]);
    const pollsAfterCrash = engine.dequeues.length;

    for (const run of runs) {
      expect(run.results).toEqual([
        {
          ok: false,
          reason: "CRASHED",
          error: expect.objectContaining({ name: "WorkerCrashedError", message: expect.stringContaining("out of bounds in a timer"), retryable: true }),
        },
      ]);
      expect(run.status).toBe("CRASHED");
    }
    expect(reasons).toHaveLength(2);
    expect(reasons[0]).toBeInstanceOf(WorkerCrashedError);
    expect(engine.routeCalls("deregister")).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(engine.dequeues.length).toBe(pollsAfterCrash);
  });

  test("a task reads its environment and deployment version from ctx", async () => {
    const engine = await fake.engine();
    const seen: unknown[] = [];
    await fake.worker(engine, [task({ id: "ctx", run: (_payload: null, { ctx }) => seen.push({ environment: ctx.environment, deployment: ctx.deployment }) })], {
      version: "2026.11.25",
    });
    const run = engine.enqueue("ctx", null);
    await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
    expect(seen).toEqual([{ environment: { id: "env_fake", name: "fake", type: "DEVELOPMENT" }, deployment: { id: "deployment_2026.11.25", version: "2026.11.25" } }]);
  });
});
