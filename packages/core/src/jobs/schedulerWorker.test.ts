import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "@runengine/testing";
import { jobQueues } from "./catalog.ts";
import { createJobWorker, jobDeferrer, JobProducer, type JobHandlers } from "./queues.ts";

const prefix = uniqueRedisPrefix("scheduler_jobs");
const connection = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
const producer = new JobProducer({ connection, prefix });
const queue = new Queue(jobQueues.scheduler, { connection, prefix });

afterAll(async () => {
  await producer.close();
  await queue.close();
  await deleteKeysWithPrefix(connection, prefix);
  connection.disconnect();
});

/** Every scheduler job does nothing but `enqueueDelayedRun`, which the test decides. */
function handlers(enqueueDelayedRun: JobHandlers<typeof jobQueues.scheduler>["enqueueDelayedRun"]): JobHandlers<typeof jobQueues.scheduler> {
  const nothing = async () => undefined;
  return { enqueueDelayedRun, expireRun: nothing, fireScheduleTick: nothing, completeDateTimeWaitpoint: nothing, timeoutWaitpointToken: nothing };
}

describe("scheduled jobs", () => {
  test("schedule places one job per subject at its instant, replacing the earlier placement", async () => {
    await producer.schedule("enqueueDelayedRun", { runId: "run_a" }, new Date(Date.now() + 60_000));
    const at = new Date(Date.now() + 120_000);
    await producer.schedule("enqueueDelayedRun", { runId: "run_a" }, at);
    expect(await queue.getDelayedCount()).toBe(1);
    const job = await queue.getJob("run_a");
    expect(Math.abs(job!.timestamp + job!.delay - at.getTime())).toBeLessThan(50);
    expect(await producer.isScheduled("enqueueDelayedRun", { runId: "run_a" })).toBe(true);
    expect(await producer.unschedule("enqueueDelayedRun", { runId: "run_a" })).toBe(true);
    expect(await producer.isScheduled("enqueueDelayedRun", { runId: "run_a" })).toBe(false);
  });

  test("a run's expiry job has an id of its own, so it can exist beside the run's due-time job", async () => {
    await producer.schedule("enqueueDelayedRun", { runId: "run_b" }, new Date(Date.now() + 60_000));
    await producer.schedule("expireRun", { runId: "run_b" }, new Date(Date.now() + 60_000));
    expect(await queue.getDelayedCount()).toBe(2);
    await producer.unschedule("enqueueDelayedRun", { runId: "run_b" });
    await producer.unschedule("expireRun", { runId: "run_b" });
  });

  test("a handler that finds its job early moves it (same id) to the instant it names, and is called again then", async () => {
    const calls: number[] = [];
    let deferTo = 0;
    const workerConnection = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
    const worker = createJobWorker(
      jobQueues.scheduler,
      handlers(async (_payload, job, token) => {
        calls.push(Date.now());
        if (calls.length === 1) {
          deferTo = Date.now() + 700;
          await jobDeferrer(job, token)(new Date(deferTo));
        }
      }),
      { connection: workerConnection, prefix },
    );
    await producer.schedule("enqueueDelayedRun", { runId: "run_c" }, new Date());
    await expect.poll(() => calls.length, { timeout: 10_000 }).toBe(2);
    expect(calls[1]!).toBeGreaterThanOrEqual(deferTo);
    await expect.poll(() => producer.isScheduled("enqueueDelayedRun", { runId: "run_c" }), { timeout: 5_000 }).toBe(false);
    await worker.close();
    workerConnection.disconnect();
  });
});
