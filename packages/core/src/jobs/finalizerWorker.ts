import type { Worker } from "bullmq";
import type { RunEngine } from "../engine.ts";
import { jobQueues } from "./catalog.ts";
import { createJobWorker, type JobQueuesOptions } from "./queues.ts";

/** The finalizer role's consumer: attempt results, stalls, unconfirmed cancels, bulk action chunks, runs to continue. */
export function createFinalizerWorker(engine: RunEngine, options: JobQueuesOptions & { concurrency?: number }): Worker {
  return createJobWorker(
    jobQueues.finalizer,
    {
      attemptResults: (payload) => engine.finalize.applyAttemptResults(payload),
      attemptStalled: (payload) => engine.finalize.applyAttemptStalled(payload),
      finishCancel: (payload) => engine.finalize.applyFinishCancel(payload),
      bulkActionChunk: (payload) => engine.bulkActions.processChunk(payload),
      continueRunIfUnblocked: async ({ runId }) => {
        await engine.waits.continueRunIfUnblocked(runId);
      },
    },
    options,
  );
}
