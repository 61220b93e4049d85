import type { WaitResponse, WaitSpecInput, WaitStatusResponse } from "@runengine/core/schemas";
import { sleep } from "../backoff.ts";
import { isTooLargeReply } from "../http/apiErrors.ts";
import { RunCancelledError, StaleAttemptError } from "../worker/abortReasons.ts";
import { resultsOf, type WaitpointResult } from "./journal.ts";
import type { RunRuntime } from "./runContext.ts";

/** Thrown when task code starts a wait while another of the same run is in progress. */
export class ConcurrentWaitError extends Error {
  override readonly name = "ConcurrentWaitError";
}

/** How often a wait that stays on the worker asks whether it ended, first and at most. */
const firstPollMs = 100;
const maxPollMs = 1_000;

export interface WaitResults {
  results: WaitpointResult[];
  /** the runs the wait triggered */
  runIds: string[];
}

/**
 * One wait of a run, as every `wait.*` / `*AndWait` call makes it. Replaying, the recorded results
 * return at once. Live, the engine blocks the run on the wait's waitpoints; a wait that ends by
 * itself within the checkpoint threshold stays on the worker (polling until it ended), any other
 * checkpoints: the journal goes to the engine, the attempt leaves this worker, and this promise
 * never settles (the task resumes by replay, on whichever worker restores the run). A journal too
 * large for one request cannot checkpoint: that wait stays on the worker, however long.
 */
export async function performWait(runtime: RunRuntime, id: string, spec: WaitSpecInput): Promise<WaitResults> {
  const replayed = runtime.journal.replayWait(id);
  if (replayed) return { results: replayed.result, runIds: replayed.runIds ?? [] };
  if (runtime.waiting) throw new ConcurrentWaitError(`"${id}" started while another wait of run ${runtime.runId} was in progress; await waits one at a time`);
  runtime.waiting = true;
  try {
    // The journal index lets the engine give a retried attempt the children this wait already triggered.
    const journalIndex = runtime.journal.nextIndex();
    // The engine checkpoints the run in this same call unless the wait ends within the threshold.
    const checkpointUnlessSoon = { waitId: id, journal: runtime.journal.all(), thresholdMs: runtime.checkpointThresholdMs };
    const request = { workerId: runtime.workerId, snapshotId: runtime.fence.snapshotId, wait: spec, journalIndex };
    let waited: WaitResponse;
    try {
      waited = await runtime.api.wait(runtime.runId, { ...request, checkpoint: checkpointUnlessSoon });
    } catch (error) {
      // The journal (what the steps so far returned) is more than the api takes in one request:
      // the api refused it unread, and the run waits on this worker instead, holding its slot.
      if (!isTooLargeReply(error)) throw error;
      runtime.logger.warn("attempt:checkpointTooLarge", { runId: runtime.runId, wait: id });
      waited = await runtime.api.wait(runtime.runId, request);
    }
    runtime.fence.snapshotId = waited.snapshotId;
    const entry = { type: "wait" as const, id, waitpointIds: waited.waitpointIds, runIds: waited.runIds, completed: false };
    runtime.journal.record(entry);
    if (waited.checkpointed === true) {
      runtime.logger.info("attempt:checkpointed", { runId: runtime.runId, wait: id });
      runtime.suspended();
      return new Promise<never>(() => undefined);
    }

    const status = await pollUntilEnded(runtime, waited.snapshotId, waited.resumeAt);
    runtime.fence.snapshotId = status.snapshotId;
    const results = resultsOf(waited.waitpointIds, status.completedWaitpoints);
    Object.assign(entry, { completed: true, result: results });
    return { results, runIds: waited.runIds };
  } finally {
    runtime.waiting = false;
  }
}

async function pollUntilEnded(runtime: RunRuntime, snapshotId: string, resumeAt: Date | null): Promise<WaitStatusResponse & { state: "resumed" }> {
  if (resumeAt) await sleep(Math.max(0, resumeAt.getTime() - Date.now()), runtime.signal);
  let intervalMs = firstPollMs;
  for (;;) {
    // The attempt was decided (cancel, stale, shutdown): end the task's code so its slot frees.
    if (runtime.signal.aborted) throw runtime.signal.reason;
    const status = await runtime.api.waitStatus(runtime.runId, { workerId: runtime.workerId, snapshotId });
    if (status.state === "resumed") return { ...status, state: "resumed" };
    if (status.state === "cancel") throw new RunCancelledError("The run was cancelled while waiting");
    if (status.state === "stale") throw new StaleAttemptError("Another attempt owns this run");
    await sleep(intervalMs, runtime.signal);
    intervalMs = Math.min(maxPollMs, intervalMs * 2);
  }
}
