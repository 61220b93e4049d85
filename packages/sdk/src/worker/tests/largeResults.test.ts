import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";

const fake = useFakeEngine();
const kib = 1024;

/** Holds every run until `count` of them are running, so their results end in the same tick. */
function together(count: number) {
  const release: (() => void)[] = [];
  return {
    arrive: () =>
      new Promise<void>((resolve) => {
        release.push(resolve);
        if (release.length === count) for (const go of release) go();
      }),
  };
}

describe("results larger than the engine takes in one request", () => {
  test("results that together pass the engine's body limit are sent in smaller requests, and every one is accepted", async () => {
    const engine = await fake.engine();
    engine.maxBodyBytes = 300 * kib;
    const barrier = together(6);
    const big = task({
      id: "big",
      run: async (n: number) => {
        await barrier.arrive();
        return { n, blob: "x".repeat(100 * kib) };
      },
    });
    await fake.worker(engine, [big], { concurrency: 6 });
    const runs = Array.from({ length: 6 }, (_, n) => engine.enqueue("big", n));

    await waitFor(() => runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY"));
    runs.forEach((run, n) => expect(run.output).toMatchObject({ n }));
    const completes = engine.routeCalls("complete").map((call) => (call.body as { runs: unknown[] } | undefined)?.runs.length);
    // the six went out together, were refused as too large, and went again in parts
    expect(completes[0]).toBe(6);
    expect(completes.slice(1).every((size) => size !== undefined && size < 6)).toBe(true);
  });

  test("an output larger than the engine takes fails its attempt for good, with the reason", async () => {
    const engine = await fake.engine();
    engine.maxBodyBytes = 64 * kib;
    const worker = await fake.worker(engine, [task({ id: "huge", run: () => "x".repeat(100 * kib) })]);
    const run = engine.enqueue("huge", null);

    await waitFor(() => run.status === "COMPLETED_WITH_ERRORS");
    expect(run.results.at(-1)).toMatchObject({ ok: false, reason: "TASK_ERROR", error: { name: "OutputTooLargeError", retryable: false } });
    await waitFor(() => worker.logger.entries.find((e) => e.event === "attempt:reported"));
  });
});
