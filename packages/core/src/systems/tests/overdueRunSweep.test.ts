import type { Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { TriggerOptionsInput } from "../../schemas/trigger.ts";
import { startEngine, type EngineFixture } from "./engineFixture.ts";

let f: EngineFixture;
let scheduler: Worker;
let workerId: string;
beforeAll(async () => {
  f = await startEngine("overdue_sweep");
  ({ workerId } = await f.registerWorker());
  scheduler = f.startScheduler();
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const trigger = (options: TriggerOptionsInput) => f.trigger(options);
const sweep = () => engine().overdueRunSweep({ graceMs: 200 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("overdue run sweep", () => {
  test("a DELAYED run past its due time whose job was lost gets it back, and is queued", async () => {
    const { id } = await trigger({ delay: "2s" });
    expect(await engine().resources.jobs.unschedule("enqueueDelayedRun", { runId: id })).toBe(true);
    expect(await sweep().tick()).toEqual({ delayed: 0, expiring: 0 });
    await sleep(2_400);
    expect((await runOf(id)).status).toBe("DELAYED");

    expect(await sweep().tick()).toEqual({ delayed: 1, expiring: 0 });
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    expect(await sweep().tick()).toEqual({ delayed: 0, expiring: 0 });
    await engine().cancel(f.environment.id, id);
  });

  test("a run requeued unstarted after its TTL passed while it was dequeued expires on the next sweep", async () => {
    const { id } = await trigger({ ttl: 1_500 });
    const [dequeued] = await engine().dequeueForWorker({ workerId, maxRuns: 1 });
    expect(dequeued?.runId).toBe(id);
    // the expiry job fires while the run is dequeued, and leaves it
    await expect.poll(() => engine().resources.jobs.isScheduled("expireRun", { runId: id }), { timeout: 5_000 }).toBe(false);
    expect((await runOf(id)).status).toBe("DEQUEUED");

    await engine().finalize.requeueUnstarted(id, dequeued!.snapshotId);
    expect((await runOf(id)).status).toBe("PENDING");
    await sleep(250);
    expect(await sweep().tick()).toEqual({ delayed: 0, expiring: 1 });
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("EXPIRED");
  });

  test("runs whose jobs are in place are left alone", async () => {
    await scheduler.pause();
    const { id } = await trigger({ delay: 100 });
    await sleep(400);
    expect(await sweep().tick()).toEqual({ delayed: 0, expiring: 0 });
    scheduler.resume();
    await expect.poll(async () => (await runOf(id)).status, { timeout: 5_000, interval: 20 }).toBe("PENDING");
    await engine().cancel(f.environment.id, id);
  });
});
