import { task } from "@runengine/sdk";

/**
 * The task the end-to-end bench runs on `runengine-worker` processes: it returns at once, so
 * every millisecond a run takes is the engine's (trigger, queue, dispatch, start, complete,
 * finalize), the same no-op work the BullMQ and graphile-worker baselines do.
 */
export const noop = task({
  id: "bench-noop",
  run: async () => ({ ok: true }),
});
