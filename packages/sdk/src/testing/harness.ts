import { afterEach } from "vitest";
import type { AnyTask } from "../task.ts";
import { startWorker, type RunEngineWorker, type WorkerOptions } from "../worker/startWorker.ts";
import type { WorkerLogger } from "../worker/workerLogger.ts";
import { FakeEngine } from "./fakeEngine.ts";

export interface LogEntry {
  level: string;
  event: string;
  fields: Record<string, unknown>;
}

/** Keeps log entries for assertions instead of printing them. */
export function recordingLogger(): WorkerLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: string) => (event: string, fields: Record<string, unknown> = {}) => void entries.push({ level, event, fields });
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A fake engine per test plus a worker with test-speed settings; both are torn down after the
 * test even when it fails.
 */
export function useFakeEngine() {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  return {
    async engine(): Promise<FakeEngine> {
      const engine = await new FakeEngine().start();
      cleanups.push(() => engine.close());
      return engine;
    },
    async worker(engine: FakeEngine, tasks: AnyTask[], options: Partial<WorkerOptions> = {}): Promise<RunEngineWorker & { logger: ReturnType<typeof recordingLogger> }> {
      const logger = recordingLogger();
      const worker = await startWorker({
        tasks,
        apiUrl: engine.url,
        apiKey: engine.apiKey,
        concurrency: 2,
        version: "test",
        heartbeatIntervalMs: 20,
        pollWaitMs: 200,
        shutdownGraceMs: 1_000,
        retry: { minDelayMs: 5, maxDelayMs: 20 },
        logger,
        ...options,
      });
      cleanups.push(() => worker.stop());
      return Object.assign(worker, { logger });
    },
  };
}
