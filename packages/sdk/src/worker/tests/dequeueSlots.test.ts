import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import { task } from "../../task.ts";

const fake = useFakeEngine();

describe("dequeue asks for exactly the free slots", () => {
  test("concurrency is never exceeded, one poll at a time, never asking for more than the free slots", async () => {
    const engine = await fake.engine();
    let running = 0;
    let maxRunning = 0;
    const sleepy = task({
      id: "sleepy",
      run: async (ms: number) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        running -= 1;
        return ms;
      },
    });
    const worker = await fake.worker(engine, [sleepy], { concurrency: 3 });
    // The first three hold their slots long enough that all three run together even on a loaded
    // machine; the rest are short and uneven, so slots free up one at a time.
    const runs = Array.from({ length: 12 }, (_, i) => engine.enqueue("sleepy", i < 3 ? 500 : 5 + ((i * 7) % 30)));

    await waitFor(() => runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY"));
    expect(maxRunning).toBe(3);
    await waitFor(() => worker.running() === 0);
    for (const poll of engine.dequeues) {
      expect(poll.openPolls).toBe(1);
      // At most, not exactly: a slot may free up while the poll travels (its 202 still on the way).
      expect(poll.maxRuns).toBeLessThanOrEqual(3 - poll.inFlight);
      expect(poll.handedOut).toBeLessThanOrEqual(poll.maxRuns);
    }
    expect(new Set(engine.dequeues.map((poll) => poll.maxRuns)).size).toBeGreaterThan(1);
  });

  test("with every slot taken the worker does not poll; a freed slot is asked for alone", async () => {
    const engine = await fake.engine();
    const gates = new Map<string, () => void>();
    const gated = task({
      id: "gated",
      run: (name: string) => new Promise<string>((resolve) => gates.set(name, () => resolve(name))),
    });
    const worker = await fake.worker(engine, [gated], { concurrency: 2 });
    await waitFor(() => engine.dequeues.length === 1);
    expect(engine.dequeues[0]).toMatchObject({ maxRuns: 2, inFlight: 0 });
    engine.enqueue("gated", "a");
    engine.enqueue("gated", "b");
    await waitFor(() => gates.size === 2);
    expect(worker.running()).toBe(2);

    const pollsWhileFull = engine.dequeues.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(engine.dequeues.length).toBe(pollsWhileFull);

    gates.get("a")!();
    const next = await waitFor(() => engine.dequeues[pollsWhileFull]);
    expect(next).toMatchObject({ maxRuns: 1, inFlight: 1 });
    // No slot frees while a poll is out here, so every poll asked for exactly the free slots.
    for (const poll of engine.dequeues) expect(poll.maxRuns).toBe(2 - poll.inFlight);
    gates.get("b")!();
  });
});
