import { describe, expect, test, vi } from "vitest";
import { AbortTaskRunError } from "../../errors.ts";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task, type TaskRunContext } from "../../task.ts";

const fake = useFakeEngine();

describe("what an attempt reports", () => {
  test("registers manifests, runs the task with its context and reports the output", async () => {
    const engine = await fake.engine();
    let seen: TaskRunContext | undefined;
    const resize = task({
      id: "images/resize",
      queue: { name: "images", concurrencyLimit: 4 },
      retry: { maxAttempts: 5 },
      maxDuration: 30,
      run: (payload: { width: number }, { ctx }) => {
        seen = ctx;
        return { width: payload.width * 2 };
      },
    });
    const worker = await fake.worker(engine, [resize], { name: "w1", concurrency: 3 });
    expect(engine.workers.get(worker.workerId)?.body).toEqual({
      version: "test",
      name: "w1",
      concurrency: 3,
      tasks: [
        {
          id: "images/resize",
          queue: { name: "images", concurrencyLimit: 4 },
          retry: { maxAttempts: 5, factor: 2, minTimeoutInMs: 1_000, maxTimeoutInMs: 60_000, randomize: true },
          maxDurationSeconds: 30,
        },
      ],
    });

    const run = engine.enqueue("images/resize", { width: 10 }, { tags: ["t1"] });
    await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ width: 20 });
    expect(seen).toEqual({
      run: { id: run.id, taskId: "images/resize", tags: ["t1"], metadata: {}, createdAt: new Date(run.createdAt) },
      attempt: { number: 1 },
      queue: { name: "task/images/resize" },
      environment: { id: "env_fake", name: "fake", type: "DEVELOPMENT" },
      deployment: { id: expect.any(String), version: expect.any(String) },
    });
    const complete = engine.routeCalls("complete")[0]!;
    expect(complete.path).toBe("/api/v1/worker/runs/complete");
    expect(complete.body).toEqual({ runs: [{ runId: run.id, workerId: worker.workerId, snapshotId: run.snapshots[2]!.id, result: { ok: true, output: { width: 20 } } }] });
  });

  test("attempts that start and end together share one start request and one complete request; a refused run is dropped alone", async () => {
    const engine = await fake.engine();
    const runs = [0, 1, 2, 3].map((i) => engine.enqueue("double", i));
    const stale = engine.enqueue("double", 4, { moveOnAfterDequeue: true });
    await fake.worker(engine, [task({ id: "double", run: (n: number) => n * 2 })], { concurrency: 5 });

    await waitFor(() => runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY"));
    const starts = engine.routeCalls("start");
    expect(starts).toHaveLength(1);
    expect((starts[0]!.body as { runs: { runId: string }[] }).runs.map((item) => item.runId)).toEqual([...runs, stale].map((run) => run.id));
    const completes = engine.routeCalls("complete");
    expect(completes.length).toBeLessThanOrEqual(2);
    expect(completes.flatMap((call) => (call.body as { runs: { runId: string }[] }).runs.map((item) => item.runId)).sort()).toEqual(runs.map((run) => run.id).sort());
    expect(runs.map((run) => run.output)).toEqual([0, 2, 4, 6]);
    expect(stale.results).toEqual([]);
  });

  test("a 409 on start drops the run: the task never runs and nothing is reported", async () => {
    const engine = await fake.engine();
    const run = vi.fn(() => "ran");
    const worker = await fake.worker(engine, [task({ id: "never", run })]);
    const stale = engine.enqueue("never", null, { moveOnAfterDequeue: true });

    await waitFor(() => worker.logger.entries.find((e) => e.event === "attempt:dropped"));
    expect(engine.routeCalls("start")).toHaveLength(1);
    expect(run).not.toHaveBeenCalled();
    expect(engine.routeCalls("complete")).toHaveLength(0);
    expect(stale.attemptCount).toBe(0);
    await waitFor(() => worker.running() === 0);
  });

  test("a thrown error is reported with name, message and stack as a retryable TASK_ERROR", async () => {
    const engine = await fake.engine();
    await fake.worker(engine, [
      task({
        id: "fails",
        run: () => {
          throw new RangeError("out of range");
        },
      }),
    ]);
    const run = engine.enqueue("fails", null);
    await waitFor(() => run.results.length === 1);
    expect(run.results[0]).toMatchObject({ ok: false, reason: "TASK_ERROR", error: { name: "RangeError", message: "out of range", retryable: true } });
    expect((run.results[0] as { error: { stack: string } }).error.stack).toMatch(/RangeError: out of range\n\s+at /);
    expect(run.status).toBe("COMPLETED_WITH_ERRORS");
  });

  test("an AbortTaskRunError is reported as not retryable", async () => {
    const engine = await fake.engine();
    await fake.worker(engine, [
      task({
        id: "gives-up",
        run: async () => {
          throw new AbortTaskRunError("bad input, do not retry");
        },
      }),
    ]);
    const run = engine.enqueue("gives-up", null);
    await waitFor(() => run.results.length === 1);
    expect(run.results[0]).toMatchObject({ ok: false, reason: "TASK_ERROR", error: { name: "AbortTaskRunError", message: "bad input, do not retry", retryable: false } });
  });

  test("an output that is not JSON is reported as a non-retryable error", async () => {
    const engine = await fake.engine();
    await fake.worker(engine, [
      task({ id: "bigint", run: () => ({ count: 10n }) }),
      task({
        id: "cycle",
        run: () => {
          const node: { self?: unknown } = {};
          node.self = node;
          return node;
        },
      }),
    ]);
    const runs = [engine.enqueue("bigint", null), engine.enqueue("cycle", null)];
    await waitFor(() => runs.every((run) => run.results.length === 1));
    for (const run of runs) {
      expect(run.results[0]).toMatchObject({ ok: false, reason: "TASK_ERROR", error: { name: "OutputNotSerializableError", retryable: false } });
    }
  });

  test("a task this worker does not define is reported as a non-retryable error", async () => {
    const engine = await fake.engine();
    await fake.worker(engine, [task({ id: "known", run: () => 1 })]);
    const run = engine.enqueue("unknown", null);
    await waitFor(() => run.results.length === 1);
    expect(run.results[0]).toMatchObject({ ok: false, reason: "TASK_ERROR", error: { name: "UnknownTaskError", retryable: false } });
  });
});
