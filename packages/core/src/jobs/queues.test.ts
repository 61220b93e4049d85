import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, test } from "vitest";
import { deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix } from "@runengine/testing";
import { jobQueues, type JobPayload } from "./catalog.ts";
import { createJobWorker, JobProducer } from "./queues.ts";

const prefix = uniqueRedisPrefix("jobs");
const connection = new Redis(testRedisUrl, { maxRetriesPerRequest: null });
const producer = new JobProducer({ connection, prefix });

afterAll(async () => {
  await producer.close();
  await deleteKeysWithPrefix(connection, prefix);
  connection.disconnect();
});

describe("job catalog", () => {
  test("a job travels from producer to the handler of its name, validated", async () => {
    const received: Array<JobPayload<"attemptStalled">> = [];
    const worker = createJobWorker(
      jobQueues.finalizer,
      {
        attemptResults: async () => undefined,
        attemptStalled: async (payload) => {
          received.push(payload);
        },
        finishCancel: async () => undefined,
        bulkActionChunk: async () => undefined,
        continueRunIfUnblocked: async () => undefined,
      },
      { connection, prefix },
    );
    await producer.enqueue("attemptStalled", { runId: "run_1", snapshotId: "snap_1" });
    await expect.poll(() => received, { timeout: 5_000 }).toEqual([{ runId: "run_1", snapshotId: "snap_1" }]);
    await worker.close();
  });

  test("a bad payload is refused at enqueue and nothing is added", async () => {
    await expect(producer.enqueue("expireRun", { runId: "" })).rejects.toThrow();
    const queue = new Queue(jobQueues.scheduler, { connection, prefix });
    expect(await queue.getJobCounts("waiting", "delayed")).toEqual({ waiting: 0, delayed: 0 });
    await queue.close();
  });

  test("a job id makes a delayed job unique and removable (reschedule, cancel)", async () => {
    await producer.enqueue("enqueueDelayedRun", { runId: "run_2" }, { jobId: "run_2", delay: 60_000 });
    await producer.enqueue("enqueueDelayedRun", { runId: "run_2" }, { jobId: "run_2", delay: 60_000 });
    const queue = new Queue(jobQueues.scheduler, { connection, prefix });
    expect(await queue.getDelayedCount()).toBe(1);
    expect(await producer.remove("enqueueDelayedRun", "run_2")).toBe(true);
    expect(await queue.getDelayedCount()).toBe(0);
    await queue.close();
  });

  test("a raw job with an invalid payload fails without retries", async () => {
    const handled: unknown[] = [];
    const worker = createJobWorker(
      jobQueues.scheduler,
      {
        enqueueDelayedRun: async (payload) => {
          handled.push(payload);
        },
        expireRun: async () => undefined,
        fireScheduleTick: async () => undefined,
        completeDateTimeWaitpoint: async () => undefined,
        timeoutWaitpointToken: async () => undefined,
      },
      { connection, prefix },
    );
    const queue = new Queue(jobQueues.scheduler, { connection, prefix });
    const job = await queue.add("enqueueDelayedRun", { wrong: true }, { attempts: 5 });
    await expect.poll(async () => (await queue.getJob(job.id!))?.failedReason, { timeout: 5_000 }).toMatch(/invalid payload/);
    expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
    expect(handled).toEqual([]);
    await worker.close();
    await queue.close();
  });
});
