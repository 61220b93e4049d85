import type { CompletedWaitpoint, JournalEntry, ResumeFromCheckpoint } from "@runengine/core/schemas";
import { AbortTaskRunError } from "../errors.ts";

/** What one waitpoint of a wait ended with, in the order of the wait's waitpoints. */
export interface WaitpointResult {
  output: unknown;
  isError: boolean;
}

type StepEntry = Extract<JournalEntry, { type: "step" }>;
type WaitEntry = Extract<JournalEntry, { type: "wait" }>;

/**
 * The task code no longer matches the journal it is replayed with (a step or wait was renamed,
 * added, removed or reordered since the run checkpointed). Re-running a step silently could repeat
 * its side effects, so the run fails at once, without a retry.
 */
export class JournalMismatchError extends AbortTaskRunError {
  override readonly name = "JournalMismatchError";
}

/**
 * A run's journal: what its task did, step by step and wait by wait, in order. A resumed run
 * replays its task with the journal of its checkpoint: each step and wait the code reaches is
 * matched, by position and id, against the recorded one and returns its result without running;
 * past the recorded entries the code runs live and its entries are appended.
 */
export class Journal {
  private readonly entries: JournalEntry[];
  private cursor = 0;

  constructor(resume?: ResumeFromCheckpoint) {
    this.entries = (resume?.journal ?? []).map((entry) => ({ ...entry }));
    const pending = this.entries.at(-1);
    // The wait the run checkpointed on ended while it was suspended: its results came with the resume.
    // Should one be missing, the entry stays incomplete and the replay fails when it reaches it.
    if (resume && pending?.type === "wait" && !pending.completed) {
      const ids = new Set(resume.completedWaitpoints.map((waitpoint) => waitpoint.id));
      if (pending.waitpointIds.every((id) => ids.has(id))) {
        Object.assign(pending, { completed: true, result: resultsOf(pending.waitpointIds, resume.completedWaitpoints) });
      }
    }
  }

  /** The recorded result of step `id` when replaying, or undefined when running live. */
  replayStep(id: string): StepEntry | undefined {
    const entry = this.next("step", id);
    return entry?.type === "step" ? entry : undefined;
  }

  /** The recorded wait `id` when replaying, or undefined when running live. */
  replayWait(id: string): (WaitEntry & { result: WaitpointResult[] }) | undefined {
    const entry = this.next("wait", id);
    if (entry?.type !== "wait") return undefined;
    if (!entry.completed) throw new JournalMismatchError(`Wait "${id}" is recorded without its result; the journal is incomplete`);
    return entry as WaitEntry & { result: WaitpointResult[] };
  }

  /**
   * Where the next live entry goes. A retried attempt replays (or re-runs) the same steps and
   * waits in the same order, so this names a wait the same way in every attempt of the run.
   */
  nextIndex(): number {
    return this.entries.length;
  }

  /** Appends a live entry; it is what the next checkpoint carries. */
  record(entry: JournalEntry): void {
    this.entries.push(entry);
    this.cursor = this.entries.length;
  }

  /** Entries recorded so far (not yet replayed ones included): what a checkpoint sends. */
  all(): JournalEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** Throws when replay ended before every recorded entry was reached: the code changed. */
  assertFullyReplayed(): void {
    if (this.cursor < this.entries.length) {
      const entry = this.entries[this.cursor]!;
      throw new JournalMismatchError(`The task finished without reaching its recorded ${entry.type} "${entry.id}" (entry ${this.cursor + 1})`);
    }
  }

  private next(type: JournalEntry["type"], id: string): JournalEntry | undefined {
    if (this.cursor >= this.entries.length) return undefined;
    const entry = this.entries[this.cursor]!;
    if (entry.type !== type || entry.id !== id) {
      throw new JournalMismatchError(
        `Replay reached ${type} "${id}" where the journal recorded ${entry.type} "${entry.id}" (entry ${this.cursor + 1}); the task's code changed since the run checkpointed`,
      );
    }
    this.cursor++;
    return entry;
  }
}

/** The outcomes of `waitpointIds`, in their order, from what the engine sent. */
export function resultsOf(waitpointIds: readonly string[], completed: readonly CompletedWaitpoint[]): WaitpointResult[] {
  const byId = new Map(completed.map((waitpoint) => [waitpoint.id, waitpoint]));
  return waitpointIds.map((id) => {
    const waitpoint = byId.get(id);
    if (!waitpoint) throw new Error(`Waitpoint ${id} was not among the completed waitpoints the engine sent`);
    return { output: waitpoint.output, isError: waitpoint.isError };
  });
}
