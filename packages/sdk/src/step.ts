import { serializeError } from "./errors.ts";
import { currentRuntime } from "./runtime/runContext.ts";

/** An error a step threw, as its journal recorded it, thrown again when the step is replayed. */
export class StepFailedError extends Error {
  override readonly name: string;

  constructor(recorded: { name: string; message: string; stack?: string }) {
    super(recorded.message);
    this.name = recorded.name;
    if (recorded.stack) this.stack = recorded.stack;
  }
}

/**
 * Steps inside a task: `step.run(id, fn)` runs `fn` once per run and records what it returned (or
 * threw) in the run's journal. When the run is resumed from a checkpoint and its task replayed, the
 * step returns the recorded result without running `fn` again. Ids name steps for the replay: a
 * replay reaching a different id where the journal has this one fails the run (the code changed).
 * Run steps one after another, not in parallel, so their order is the same on every replay.
 */
export const step = {
  async run<T>(id: string, fn: () => Promise<T> | T): Promise<T> {
    const { journal } = currentRuntime("step.run");
    const replayed = journal.replayStep(id);
    if (replayed) {
      if (replayed.result.ok) return replayed.result.output as T;
      throw new StepFailedError(replayed.result.error);
    }
    try {
      const output = await fn();
      // what a replay returns is what the journal can hold: JSON
      const recorded: unknown = output === undefined ? undefined : JSON.parse(JSON.stringify(output));
      journal.record({ type: "step", id, result: { ok: true, output: recorded } });
      return output;
    } catch (error) {
      const { name, message, stack } = serializeError(error);
      journal.record({ type: "step", id, result: { ok: false, error: { name, message, ...(stack ? { stack } : {}) } } });
      throw error;
    }
  },
};
