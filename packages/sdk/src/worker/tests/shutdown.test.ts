import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";
import { WorkerShutdownError } from "../abortReasons.ts";

const fake = useFakeEngine();

describe("stop()", () => {
  test("waits for running tasks, aborts those past the grace as WORKER_SHUTDOWN, then deregisters", async () => {
    const engine = await fake.engine();
    const reasons: unknown[] = [];
    const tasks = [
      task({ id: "short", run: () => new Promise((resolve) => setTimeout(() => resolve("finished in time"), 100)) }),
      task({
        id: "endless",
        run: (_payload: null, { signal }) =>
          new Promise((_resolve, reject) =>
            signal.addEventListener("abort", () => {
              reasons.push(signal.reason);
              reject(signal.reason);
            }),
          ),
      }),
    ];
    const worker = await fake.worker(engine, tasks, { shutdownGraceMs: 300 });
    const short = engine.enqueue("short", null);
    const endless = engine.enqueue("endless", null);
    await waitFor(() => worker.running() === 2 && engine.routeCalls("heartbeat").length > 0);

    const stoppedAt = Date.now();
    await worker.stop();
    const stopMs = Date.now() - stoppedAt;
    const pollsAfterStop = engine.dequeues.length;

    expect(stopMs).toBeGreaterThanOrEqual(290);
    expect(short.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(short.output).toBe("finished in time");
    expect(reasons[0]).toBeInstanceOf(WorkerShutdownError);
    expect(endless.results).toEqual([{ ok: false, reason: "WORKER_SHUTDOWN", error: expect.objectContaining({ name: "WorkerShutdownError", retryable: true }) }]);
    expect(endless.status).toBe("PENDING");
    expect(engine.workers.get(worker.workerId)?.deregistered).toBe(true);
    const order = engine.requests.map((r) => r.route).filter((route) => route === "complete" || route === "deregister");
    expect(order).toEqual(["complete", "complete", "deregister"]);
    expect(worker.running()).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(engine.dequeues.length).toBe(pollsAfterStop);
  });

  test("hands a run back only once its code has returned, and never a run whose code ignores the abort", { timeout: 15_000 }, async () => {
    const engine = await fake.engine();
    let returnedAt = Number.POSITIVE_INFINITY;
    const tasks = [
      task({
        id: "slow-to-stop",
        run: (_payload: null, { signal }) =>
          new Promise((_resolve, reject) =>
            signal.addEventListener("abort", () => setTimeout(() => {
              returnedAt = Date.now();
              reject(signal.reason);
            }, 300)),
          ),
      }),
      task({ id: "deaf", run: () => new Promise(() => {}) }),
    ];
    const worker = await fake.worker(engine, tasks, { shutdownGraceMs: 100 });
    const slow = engine.enqueue("slow-to-stop", null);
    const deaf = engine.enqueue("deaf", null);
    await waitFor(() => worker.running() === 2 && engine.routeCalls("heartbeat").length > 0);

    await worker.stop();

    const completes = engine.routeCalls("complete");
    expect(completes).toHaveLength(1);
    expect(completes[0]!.at).toBeGreaterThanOrEqual(returnedAt);
    expect(slow.results).toEqual([{ ok: false, reason: "WORKER_SHUTDOWN", error: expect.objectContaining({ name: "WorkerShutdownError" }) }]);
    expect(deaf.results).toEqual([]);
    expect(engine.workers.get(worker.workerId)?.deregistered).toBe(true);
  });

  test("an idle worker ends its long poll at once and deregisters", async () => {
    const engine = await fake.engine();
    const worker = await fake.worker(engine, [task({ id: "idle", run: () => 1 })], { pollWaitMs: 30_000 });
    await waitFor(() => engine.dequeues.length === 1);
    const stoppedAt = Date.now();
    await Promise.all([worker.stop(), worker.stop()]);
    expect(Date.now() - stoppedAt).toBeLessThan(500);
    expect(engine.routeCalls("deregister")).toHaveLength(1);
  });
});
