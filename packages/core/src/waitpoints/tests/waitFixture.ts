import type { Worker } from "bullmq";
import { createSchedulerWorker } from "../../jobs/schedulerWorker.ts";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";

export interface WaitFixture extends EngineFixture {
  scheduler: Worker;
  workerId: string;
  /** a run of `taskId` triggered, dequeued and its attempt started: EXECUTING on `workerId` */
  executingRun(taskId?: string, payload?: unknown): Promise<{ id: string; snapshotId: string }>;
  /** the one run handed to the worker now (polls until it is) */
  dequeue(runId: string): Promise<{ snapshotId: string; resume?: unknown; attemptNumber: number }>;
  historyOf(runId: string): Promise<string[]>;
}

export const waitTasks = [
  { id: "parent", queue: { name: "chain", concurrencyLimit: 1 }, retry: fastRetry },
  { id: "child", queue: { name: "chain", concurrencyLimit: 1 }, retry: fastRetry },
  { id: "hello", queue: { name: "hello" }, retry: fastRetry },
];

/** An engine with a finalizer and a scheduler consuming its jobs, and one registered worker. */
export async function startWaitEngine(label: string): Promise<WaitFixture> {
  const f = await startEngine(label);
  const scheduler = createSchedulerWorker(f.handle.engine, { ...f.handle.jobQueuesOptions(), concurrency: 10 });
  const { workerId } = await f.registerWorker(waitTasks);
  const engine = f.handle.engine;

  async function dequeue(runId: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const runs = await engine.dequeueForWorker({ workerId, maxRuns: 10 });
      const run = runs.find((r) => r.runId === runId);
      if (run) return run;
      if (runs.length > 0) throw new Error(`dequeued other runs: ${runs.map((r) => r.runId).join(", ")}`);
      if (Date.now() > deadline) throw new Error(`run ${runId} was not dequeued`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return {
    ...f,
    scheduler,
    workerId,
    dequeue,
    async executingRun(taskId = "hello", payload = {}) {
      const { id } = await engine.trigger({ environment: f.environment, taskId, payload });
      const dequeued = await dequeue(id);
      const started = await engine.startAttempt(f.environment.id, id, { workerId, snapshotId: dequeued.snapshotId });
      return { id, snapshotId: started.snapshotId };
    },
    async historyOf(runId) {
      return (await engine.reads.history(f.environment.id, runId)).map((s) => s.executionStatus);
    },
    async close() {
      await scheduler.close();
      await f.close();
    },
  };
}
