import { runService, startEngineForRole, startIntervalLoop } from "@runengine/core";
import { config } from "./config.ts";

/**
 * The heartbeat monitor: recovers runs whose heartbeat is overdue (requeue, fail as stalled, or
 * finish a cancel), reclaims run-queue entries whose holder died, and reconciles the queue with
 * Postgres (frees leaked slots; rebuilds the queue when Redis lost its data).
 */
const { logger, handle } = startEngineForRole("heartbeat-monitor", config);

await runService({
  name: "heartbeat-monitor",
  logger,
  healthPort: config.HEARTBEAT_MONITOR_HEALTH_PORT,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  metrics: handle.engine.resources.metrics.registry,
  async start() {
    const stopping = new AbortController();
    const monitor = handle.engine.heartbeatMonitor();
    handle.engine.resources.runQueue.startReclaimer({ intervalMs: config.QUEUE_RECLAIM_INTERVAL_MS, signal: stopping.signal });
    let lastPass = Date.now();
    const heartbeatLoop = startIntervalLoop({
      intervalMs: config.HEARTBEAT_MONITOR_INTERVAL_MS,
      signal: stopping.signal,
      pass: async () => {
        const result = await monitor.tick();
        if (result.requeued + result.stalled + result.cancelsFinished > 0) logger.info({ event: "heartbeat:pass", ...result }, "overdue runs handled");
        lastPass = Date.now();
      },
      onError: (error) => logger.error({ event: "heartbeat:pass-failed", err: error }, "heartbeat pass failed; retrying"),
    });
    const reconciler = handle.engine.reconciler({ strayGraceMs: config.RECONCILE_STRAY_GRACE_MS });
    const reconcileLoop = startIntervalLoop({
      intervalMs: config.RECONCILE_INTERVAL_MS,
      signal: stopping.signal,
      pass: async () => {
        await reconciler.tick();
      },
      onError: (error) => logger.error({ event: "reconcile:pass-failed", err: error }, "reconcile pass failed; retrying"),
    });
    return {
      healthy: async () => Date.now() - lastPass < config.HEARTBEAT_MONITOR_INTERVAL_MS * 10 && (await handle.healthy()),
      async stop() {
        stopping.abort();
        await Promise.all([heartbeatLoop, reconcileLoop]);
        await handle.close();
      },
    };
  },
});
