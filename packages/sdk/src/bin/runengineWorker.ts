import { startWorker } from "../worker/startWorker.ts";
import { createJsonLinesLogger } from "../worker/workerLogger.ts";
import { loadTasks } from "./loadTasks.ts";
import { parseWorkerConfig } from "./workerConfig.ts";

/**
 * `runengine-worker <tasks file>`: runs the tasks a file exports as a worker configured from the
 * environment, until SIGTERM or SIGINT. Logs JSON lines to stdout.
 */
async function main(): Promise<void> {
  const logger = createJsonLinesLogger({ base: { service: "runengine-worker" } });
  try {
    const file = process.argv[2];
    if (!file) throw new Error("usage: runengine-worker <tasks file>");
    const config = parseWorkerConfig(process.env);
    const tasks = await loadTasks(file, process.cwd());
    const starting = startWorker({
      tasks,
      apiUrl: config.RUNENGINE_API_URL,
      apiKey: config.RUNENGINE_API_KEY,
      concurrency: config.RUNENGINE_WORKER_CONCURRENCY,
      version: config.RUNENGINE_WORKER_VERSION,
      name: config.RUNENGINE_WORKER_NAME,
      shutdownGraceMs: config.RUNENGINE_WORKER_SHUTDOWN_GRACE_MS,
      checkpointThresholdMs: config.RUNENGINE_CHECKPOINT_THRESHOLD_MS,
      heartbeatIntervalMs: config.RUNENGINE_WORKER_HEARTBEAT_INTERVAL_MS,
      logger,
    });

    // Listening before registration completes: a signal during start-up stops the worker once it
    // is registered, so it is deregistered rather than left for the engine to time out.
    let shuttingDown = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (shuttingDown) {
        // A second Ctrl-C means "now": skip what is left of the grace period.
        if (signal === "SIGINT") {
          logger.warn("worker:forcedExit", { signal });
          process.exit(130);
        }
        return;
      }
      shuttingDown = true;
      logger.info("worker:signal", { signal });
      // A task that ignores its AbortSignal can keep the event loop alive after stop(): exit explicitly.
      void starting.then((worker) => worker.stop()).then(() => process.exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const worker = await starting;
    // Task code that throws outside its run function (a timer, an unawaited promise) kills the
    // process; the engine hears of it as a crash now rather than as missed heartbeats later.
    const onFatal = (error: unknown) => {
      void worker.crash(error).finally(() => process.exit(1));
    };
    process.on("uncaughtException", onFatal);
    process.on("unhandledRejection", onFatal);
  } catch (error) {
    logger.error("worker:startFailed", { message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

await main();
