import { Queue, type Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ConflictError } from "../../errors/runEngineError.ts";
import { jobQueues } from "../../jobs/catalog.ts";
import { createSchedulerWorker } from "../../jobs/schedulerWorker.ts";
import { momentSchema } from "../../schemas/duration.ts";
import type { TriggerOptionsInput } from "../../schemas/trigger.ts";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let scheduler: Worker | undefined;
let jobs: Queue;
beforeAll(async () => {
  f = await startEngine("delayed_runs");
  await f.registerWorker();
  const options = f.handle.jobQueuesOptions();
  jobs = new Queue(jobQueues.scheduler, options);
  scheduler = createSchedulerWorker(f.handle.engine, options);
});
afterAll(async () => {
  await scheduler?.close();
  await jobs.close();
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const historyOf = (id: string) => engine().reads.history(f.environment.id, id);
const trigger = (options: TriggerOptionsInput, payload: unknown = 1) => f.trigger(options, payload);
const inMs = (ms: number) => momentSchema.parse(ms);

describe("delayed runs", () => {
  test("a run triggered with a delay is DELAYED, then QUEUED within a second of its due time, and dequeueable", async () => {
    const triggeredAt = Date.now();
    const { id } = await trigger({ delay: 1_500 });
    expect(await jobs.getJobState(id)).toBe("delayed");
    const created = await runOf(id);
    expect(created.status).toBe("DELAYED");
    expect(created.queuedAt).toBeNull();
    expect(created.delayUntil!.getTime()).toBeGreaterThanOrEqual(triggeredAt + 1_500);
    expect((await historyOf(id))[0]).toMatchObject({ executionStatus: "DELAYED", runStatus: "DELAYED", description: `Delayed until ${created.delayUntil!.toISOString()}` });
    expect((await engine().resources.runQueue.stats({ envId: f.environment.id })).queued).toBe(0);

    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    const queued = await runOf(id);
    expect(queued.queuedAt!.getTime() - created.delayUntil!.getTime()).toBeGreaterThanOrEqual(0);
    expect(queued.queuedAt!.getTime() - created.delayUntil!.getTime()).toBeLessThan(1_000);
    expect((await historyOf(id)).map((s) => `${s.executionStatus}/${s.runStatus}`)).toEqual(["DELAYED/DELAYED", "QUEUED/PENDING"]);
    expect((await historyOf(id))[1]!.description).toBe(`Due (delayed until ${created.delayUntil!.toISOString()}); queued`);
    const { workerId } = await f.registerWorker();
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    expect(dequeued?.runId).toBe(id);
  });

  test("an ISO date as delay is the due time", async () => {
    const at = new Date(Date.now() + 60_000);
    const { id } = await trigger({ delay: at.toISOString() });
    expect((await runOf(id)).delayUntil).toEqual(at);
    await engine().cancel(f.environment.id, id);
  });

  test("reschedule later, then earlier: the job moves each time and a snapshot records it", async () => {
    const { id } = await trigger({ delay: 3_000 });
    const later = inMs(60_000);
    const run = await engine().reschedule(f.environment.id, id, later);
    expect(run.delayUntil).toEqual(later);
    const job = await jobs.getJob(id);
    expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(later.getTime() - 5);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await runOf(id)).status).toBe("DELAYED");

    const earlier = inMs(300);
    await engine().reschedule(f.environment.id, id, earlier);
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    expect((await runOf(id)).queuedAt!.getTime() - earlier.getTime()).toBeLessThan(1_000);
    const descriptions = (await historyOf(id)).map((s) => s.description);
    expect(descriptions.slice(1, 3)).toEqual([`Rescheduled to ${later.toISOString()}`, `Rescheduled to ${earlier.toISOString()}`]);
  });

  test("only a DELAYED run can be rescheduled; a refusal changes nothing", async () => {
    const { id } = await trigger({});
    await expect(engine().reschedule(f.environment.id, id, inMs(1_000))).rejects.toBeInstanceOf(ConflictError);
    expect((await historyOf(id)).map((s) => s.executionStatus)).toEqual(["QUEUED"]);
    await engine().cancel(f.environment.id, id);
  });

  test("cancelling a DELAYED run finishes it CANCELED and removes its job", async () => {
    const { id } = await trigger({ delay: 60_000 });
    expect(await jobs.getJobState(id)).toBe("delayed");
    expect(await engine().cancel(f.environment.id, id)).toBe("CANCELED");
    expect(await jobs.getJob(id)).toBeUndefined();
    expect((await historyOf(id)).map((s) => `${s.executionStatus}/${s.runStatus}`)).toEqual(["DELAYED/DELAYED", "FINISHED/CANCELED"]);
  });

  test("a job that fires before the run's due time (moved while being processed) moves itself to the due time", async () => {
    const { id } = await trigger({ delay: 60_000 });
    const deferredTo: Date[] = [];
    await engine().delayedRuns.enqueueDue({ runId: id }, async (at) => {
      deferredTo.push(at);
      throw new Error("deferred");
    }).catch((error: Error) => expect(error.message).toBe("deferred"));
    expect(deferredTo).toEqual([(await runOf(id)).delayUntil]);
    expect((await runOf(id)).status).toBe("DELAYED");
    await engine().cancel(f.environment.id, id);
  });

  test("a due job for a run that is no longer DELAYED does nothing", async () => {
    const { id } = await trigger({ delay: 60_000 });
    await engine().cancel(f.environment.id, id);
    await engine().delayedRuns.enqueueDue({ runId: id });
    expect((await runOf(id)).status).toBe("CANCELED");
    expect(await historyOf(id)).toHaveLength(2);
  });

  test("a scheduler that was down during the delay queues the run as soon as it is back", async () => {
    await scheduler?.close();
    scheduler = undefined;
    const { id } = await trigger({ delay: 300 });
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect((await runOf(id)).status).toBe("DELAYED");
    const restartedAt = Date.now();
    scheduler = createSchedulerWorker(engine(), f.handle.jobQueuesOptions());
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    expect((await runOf(id)).queuedAt!.getTime() - restartedAt).toBeLessThan(1_000);
  });
});
