import { expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";

const fake = useFakeEngine();

// Node warns of a possible leak past 10 listeners on one AbortSignal; every attempt in flight
// listens on the worker's shutdown, crash and give-up signals, so a worker with more slots than
// that must not print the warning to its users' logs.
test("a worker running more than ten attempts at once prints no listener-leak warning", async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    const engine = await fake.engine();
    const gates: (() => void)[] = [];
    const gated = task({ id: "gated", run: () => new Promise<string>((resolve) => gates.push(() => resolve("done"))) });
    const worker = await fake.worker(engine, [gated], { concurrency: 30 });
    const runs = Array.from({ length: 30 }, () => engine.enqueue("gated", null));
    await waitFor(() => gates.length === 30);
    expect(worker.running()).toBe(30);
    for (const open of gates) open();
    await waitFor(() => runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
  } finally {
    process.off("warning", onWarning);
  }
});
