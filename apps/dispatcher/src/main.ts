import { DispatchServer, runService, startEngineForRole } from "@runengine/core";
import { config } from "./config.ts";

/**
 * The dispatcher: answers workers' long-polls (relayed by the api) by dequeuing from the fair
 * queue, at most as many runs as each worker has free slots, and locking each to its worker.
 */
const { logger, handle } = startEngineForRole("dispatcher", config);

await runService({
  name: "dispatcher",
  logger,
  healthPort: config.DISPATCHER_HEALTH_PORT,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  metrics: handle.engine.resources.metrics.registry,
  async start() {
    // Redis may have lost its data while no dispatcher ran: the queue is rebuilt from Postgres
    // before the first dequeue (a no-op when Redis still records that it was built).
    await handle.engine.reconciler().rebuildIfLost();
    const server = new DispatchServer({
      blocking: handle.connectRedis(),
      subscriber: handle.connectRedis(),
      redis: handle.engine.resources.redis,
      keys: handle.engine.resources.relayKeys,
      logger,
      retryIntervalMs: config.DISPATCH_RETRY_INTERVAL_MS,
      concurrency: config.DISPATCH_CONCURRENCY,
      dequeue: (request) => handle.engine.dequeueForWorker(request),
    });
    await server.start();
    return {
      healthy: () => handle.healthy(),
      async stop() {
        await server.stop();
        await handle.close();
      },
    };
  },
});
