import { runService, startEngineForRole } from "@runengine/core";
import { config } from "./config.ts";

/**
 * The heartbeat monitor: recovers runs whose heartbeat is overdue (requeue, fail as stalled, or
 * finish a cancel) and reclaims run-queue entries whose holder died.
 */
const { logger, handle } = startEngineForRole("heartbeat-monitor", config);

await runService({
  name: "heartbeat-monitor",
  logger,
  healthPort: config.HEARTBEAT_MONITOR_HEALTH_PORT,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  async start() {
    const stopping = new AbortController();
    const monitor = handle.engine.heartbeatMonitor();
    handle.engine.resources.runQueue.startReclaimer({ intervalMs: config.QUEUE_RECLAIM_INTERVAL_MS, signal: stopping.signal });
    let lastPass = Date.now();
    const loop = (async () => {
      while (!stopping.signal.aborted) {
        try {
          const result = await monitor.tick();
          if (result.requeued + result.stalled + result.cancelsFinished > 0) logger.info({ event: "heartbeat:pass", ...result }, "overdue runs handled");
          lastPass = Date.now();
        } catch (error) {
          logger.error({ event: "heartbeat:pass-failed", err: error }, "heartbeat pass failed; retrying");
        }
        await new Promise((resolve) => setTimeout(resolve, config.HEARTBEAT_MONITOR_INTERVAL_MS));
      }
    })();
    return {
      healthy: async () => Date.now() - lastPass < config.HEARTBEAT_MONITOR_INTERVAL_MS * 10 && (await handle.healthy()),
      async stop() {
        stopping.abort();
        await loop;
        await handle.close();
      },
    };
  },
});
