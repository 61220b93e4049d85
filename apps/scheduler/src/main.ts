import { createSchedulerWorker, runService, startEngineForRole, startIntervalLoop } from "@runengine/core";
import { config } from "./config.ts";

/**
 * The scheduler: consumes the jobs that fire at an instant — delayed runs becoming due, TTL
 * expiries, cron schedule ticks — from the scheduler queue. The jobs wait in Redis, so a scheduler that was down
 * handles the ones that fell due meanwhile as soon as it is back, and replicas share them.
 */
const { logger, handle } = startEngineForRole("scheduler", config);

await runService({
  name: "scheduler",
  logger,
  healthPort: config.SCHEDULER_HEALTH_PORT,
  shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  metrics: handle.engine.resources.metrics.registry,
  async start() {
    const stopping = new AbortController();
    // Cron ticks whose jobs Redis lost (restored from an old snapshot, flushed) or that gave up
    // during an outage are armed again: at start, then every interval.
    const rearmLoop = startIntervalLoop({
      intervalMs: config.SCHEDULE_REARM_INTERVAL_MS,
      signal: stopping.signal,
      pass: async () => {
        const { active, revived } = await handle.engine.scheduleTicks.armAll();
        logger.debug({ event: "schedule:armed", active, revived }, "active schedules armed");
      },
      onError: (error) => logger.error({ event: "schedule:arm-failed", err: error }, "arming schedules failed; retrying"),
    });
    // Delayed and expiring runs whose job went missing (a crash between a commit and its job) or
    // gave up during an outage get it back.
    const sweep = handle.engine.overdueRunSweep({ graceMs: config.SCHEDULER_SWEEP_GRACE_MS });
    const sweepLoop = startIntervalLoop({
      intervalMs: config.SCHEDULER_SWEEP_INTERVAL_MS,
      signal: stopping.signal,
      pass: async () => {
        const result = await sweep.tick();
        if (result.delayed + result.expiring > 0) logger.warn({ event: "sweep:rearmed", ...result }, "jobs of overdue runs armed again");
      },
      onError: (error) => logger.error({ event: "sweep:failed", err: error }, "overdue run sweep failed; retrying"),
    });
    const worker = createSchedulerWorker(handle.engine, { ...handle.jobQueuesOptions(), concurrency: config.SCHEDULER_CONCURRENCY });
    worker.on("failed", (job, error) => logger.error({ event: "job:failed", jobId: job?.id, name: job?.name, err: error }, "scheduler job failed"));
    return {
      healthy: async () => worker.isRunning() && (await handle.healthy()),
      async stop() {
        stopping.abort();
        // BullMQ's close waits for the jobs in progress; the rest stay in Redis for the next scheduler.
        await Promise.all([worker.close(), rearmLoop, sweepLoop]);
        await handle.close();
      },
    };
  },
});
