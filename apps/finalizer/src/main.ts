import { createFinalizerWorker, runService, startEngineForRole } from "@runengine/core";
import { config } from "./config.ts";

/**
 * The finalizer: applies attempt results, stalls and unconfirmed cancels from BullMQ jobs —
 * retries with backoff or a final state, acking the run queue exactly once per final state.
 */
const { logger, handle } = startEngineForRole("finalizer", config);

await runService({
  name: "finalizer",
  logger,
  healthPort: config.FINALIZER_HEALTH_PORT,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  metrics: handle.engine.resources.metrics.registry,
  async start() {
    const worker = createFinalizerWorker(handle.engine, { ...handle.jobQueuesOptions(), concurrency: config.FINALIZER_CONCURRENCY });
    worker.on("failed", (job, error) => logger.error({ event: "job:failed", jobId: job?.id, name: job?.name, err: error }, "finalizer job failed"));
    return {
      healthy: async () => worker.isRunning() && (await handle.healthy()),
      async stop() {
        // BullMQ's close waits for the jobs in progress; the rest stay queued for another finalizer.
        await worker.close();
        await handle.close();
      },
    };
  },
});
