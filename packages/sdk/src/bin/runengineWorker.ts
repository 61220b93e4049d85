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
    const worker = await startWorker({
      tasks,
      apiUrl: config.RUNENGINE_API_URL,
      apiKey: config.RUNENGINE_API_KEY,
      concurrency: config.RUNENGINE_WORKER_CONCURRENCY,
      version: config.RUNENGINE_WORKER_VERSION,
      name: config.RUNENGINE_WORKER_NAME,
      shutdownGraceMs: config.RUNENGINE_WORKER_SHUTDOWN_GRACE_MS,
      logger,
    });

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
      void worker.stop().then(() => process.exit(0));
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  } catch (error) {
    logger.error("worker:startFailed", { message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
}

await main();
