import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";
import { MaxDurationExceededError, RunCancelledError, StaleAttemptError } from "../abortReasons.ts";

const fake = useFakeEngine();

/** A task that runs until its signal aborts, and records why. */
function untilAborted(id: string, options: { maxDuration?: number } = {}) {
  const reasons: unknown[] = [];
  const definition = task({
    id,
    ...options,
    run: (_payload: null, { signal }) =>
      new Promise<never>((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          reasons.push(signal.reason);
          reject(signal.reason);
        });
      }),
  });
  return { definition, reasons };
}

describe("heartbeats and the AbortSignal", () => {
  test("heartbeats carry the attempt's snapshot while the task runs, and stop when it ends", async () => {
    const engine = await fake.engine();
    const worker = await fake.worker(engine, [task({ id: "slow", run: () => new Promise((resolve) => setTimeout(() => resolve("done"), 200)) })]);
    const run = engine.enqueue("slow", null);
    await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
    await waitFor(() => worker.running() === 0);

    const beats = engine.routeCalls("heartbeat");
    expect(beats.length).toBeGreaterThanOrEqual(4);
    const started = run.snapshots.find((s) => s.executionStatus === "EXECUTING")!;
    for (const beat of beats) expect(beat.body).toEqual({ workerId: worker.workerId, snapshotId: started.id });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(engine.routeCalls("heartbeat")).toHaveLength(beats.length);
  });

  test("a cancel answer aborts the signal and reports CANCELLED on the cancel snapshot", async () => {
    const engine = await fake.engine();
    const { definition, reasons } = untilAborted("cancellable");
    await fake.worker(engine, [definition]);
    const run = engine.enqueue("cancellable", null);
    await waitFor(() => engine.routeCalls("heartbeat").length > 0);
    engine.requestCancel(run.id);

    await waitFor(() => run.status === "CANCELED");
    expect(reasons[0]).toBeInstanceOf(RunCancelledError);
    expect(run.results).toEqual([{ ok: false, reason: "CANCELLED", error: expect.objectContaining({ name: "RunCancelledError", retryable: false }) }]);
    const cancelSnapshot = run.snapshots.find((s) => s.executionStatus === "PENDING_CANCEL")!;
    expect(engine.routeCalls("complete")[0]?.body).toMatchObject({ runs: [{ runId: run.id, snapshotId: cancelSnapshot.id }] });
  });

  test("a stale answer aborts the signal and reports nothing: another attempt owns the run", async () => {
    const engine = await fake.engine();
    const { definition, reasons } = untilAborted("overtaken");
    const worker = await fake.worker(engine, [definition]);
    const run = engine.enqueue("overtaken", null);
    await waitFor(() => engine.routeCalls("heartbeat").length > 0);
    engine.moveOn(run.id);

    await waitFor(() => reasons.length === 1);
    expect(reasons[0]).toBeInstanceOf(StaleAttemptError);
    await waitFor(() => worker.running() === 0);
    expect(engine.routeCalls("complete")).toHaveLength(0);
    expect(worker.logger.entries.some((e) => e.event === "attempt:stale")).toBe(true);
  });

  test("maxDuration aborts the signal and reports MAX_DURATION_EXCEEDED", async () => {
    const engine = await fake.engine();
    const { definition, reasons } = untilAborted("bounded", { maxDuration: 0.1 });
    await fake.worker(engine, [definition]);
    const run = engine.enqueue("bounded", null);

    await waitFor(() => run.status === "TIMED_OUT");
    expect(reasons[0]).toBeInstanceOf(MaxDurationExceededError);
    expect(run.results[0]).toMatchObject({ ok: false, reason: "MAX_DURATION_EXCEEDED", error: { name: "MaxDurationExceededError", retryable: false } });
    expect(Date.parse(run.completedAt!) - Date.parse(run.startedAt!)).toBeGreaterThanOrEqual(95);
  });

  test("the engine's maxDurationSeconds for the run wins over the task's", async () => {
    const engine = await fake.engine();
    const { definition } = untilAborted("overridden", { maxDuration: 3_600 });
    await fake.worker(engine, [definition]);
    const run = engine.enqueue("overridden", null, { maxDurationSeconds: 0.05 });
    await waitFor(() => run.status === "TIMED_OUT");
  });

  test("a task that ignores the signal is reported at once but keeps its slot until it returns", async () => {
    const engine = await fake.engine();
    let finish!: () => void;
    const stubborn = task({ id: "stubborn", run: () => new Promise<void>((resolve) => (finish = resolve)) });
    const worker = await fake.worker(engine, [stubborn], { concurrency: 1 });
    const run = engine.enqueue("stubborn", null);
    await waitFor(() => engine.routeCalls("heartbeat").length > 0);
    engine.requestCancel(run.id);

    await waitFor(() => run.status === "CANCELED");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(worker.running()).toBe(1);
    finish();
    await waitFor(() => worker.running() === 0);
    expect(run.results).toHaveLength(1);
  });
});
