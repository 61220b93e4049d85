import { Queue, UnrecoverableError, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { jobQueues } from "../../jobs/catalog.ts";
import { startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";
import { ScheduleArming } from "../scheduleArming.ts";
import { scheduledRunIdempotencyKey } from "../scheduleTicks.ts";

let f: EngineFixture;
let schedulerQueue: Queue;
beforeAll(async () => {
  f = await startEngine("schedule_ticks");
  await f.registerWorker();
  schedulerQueue = new Queue(jobQueues.scheduler, f.handle.jobQueuesOptions());
});
afterAll(async () => {
  await schedulerQueue.close();
  await f.close();
});

const engine = () => f.handle.engine;
const hourly = { taskId: "hello", cron: "0 * * * *", timezone: "UTC" };
const runsOf = (scheduleId: string) => f.db.prisma.taskRun.findMany({ where: { scheduleId }, orderBy: { createdAt: "asc" } });
const scheduleOf = (id: string) => f.db.prisma.schedule.findUniqueOrThrow({ where: { id } });
const fireCurrent = async (scheduleId: string) => {
  const { nextTickAt } = await scheduleOf(scheduleId);
  return engine().scheduleTicks.fire({ scheduleId, tickMs: nextTickAt!.getTime() });
};
const armedTicks = async (scheduleId: string) =>
  (await schedulerQueue.getJobs(["delayed", "waiting"])).filter((job) => job.data.scheduleId === scheduleId).map((job) => job.data.tickMs as number);

describe("firing a tick", () => {
  test("triggers one run with the tick's payload, then moves to and arms the next tick", async () => {
    const schedule = await engine().schedules.create(f.environment, { ...hourly, externalId: "acme", timezone: "Europe/Paris" });
    const first = schedule.nextTickAt!;
    expect(await fireCurrent(schedule.id)).toBe("fired");

    const [run] = await runsOf(schedule.id);
    expect(run).toMatchObject({
      taskIdentifier: "hello",
      status: "PENDING",
      idempotencyKey: scheduledRunIdempotencyKey(schedule.id, first),
      payload: { scheduleId: schedule.id, timestamp: first.toISOString(), externalId: "acme", timezone: "Europe/Paris" },
    });
    expect(run!.payload).not.toHaveProperty("lastTimestamp");
    const [created] = await engine().reads.history(f.environment.id, run!.id);
    expect(created?.description).toBe(`Run was triggered by schedule ${schedule.id} and queued`);
    const advanced = await scheduleOf(schedule.id);
    expect(advanced.lastTickAt).toEqual(first);
    expect(advanced.nextTickAt!.getTime()).toBe(first.getTime() + 3_600_000);
    expect(await armedTicks(schedule.id)).toContain(advanced.nextTickAt!.getTime());

    // The next tick's run names the previous tick.
    expect(await fireCurrent(schedule.id)).toBe("fired");
    const runs = await runsOf(schedule.id);
    expect(runs.map((r) => r.payload)).toEqual([
      expect.anything(),
      expect.objectContaining({ timestamp: advanced.nextTickAt!.toISOString(), lastTimestamp: first.toISOString() }),
    ]);
  });

  test("the same tick fired again, or by five handlers at once, makes one run", async () => {
    const schedule = await engine().schedules.create(f.environment, hourly);
    const tickMs = schedule.nextTickAt!.getTime();
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => engine().scheduleTicks.fire({ scheduleId: schedule.id, tickMs })));
    expect(outcomes).toContain("fired");
    expect(await engine().scheduleTicks.fire({ scheduleId: schedule.id, tickMs })).toBe("stale");
    expect(await runsOf(schedule.id)).toHaveLength(1);
    expect((await scheduleOf(schedule.id)).nextTickAt!.getTime()).toBe(tickMs + 3_600_000);
  });

  test("a deactivated or deleted schedule does not fire; a re-timed one drops its old tick", async () => {
    const paused = await engine().schedules.create(f.environment, hourly);
    await engine().schedules.deactivate(f.environment.id, paused.id);
    expect(await engine().scheduleTicks.fire({ scheduleId: paused.id, tickMs: paused.nextTickAt!.getTime() })).toBe("inactive");

    const deleted = await engine().schedules.create(f.environment, hourly);
    await engine().schedules.delete(f.environment.id, deleted.id);
    expect(await engine().scheduleTicks.fire({ scheduleId: deleted.id, tickMs: deleted.nextTickAt!.getTime() })).toBe("inactive");

    const retimed = await engine().schedules.create(f.environment, hourly);
    const moved = await engine().schedules.update(f.environment.id, retimed.id, { ...hourly, cron: "15 4 * * *" });
    expect(await engine().scheduleTicks.fire({ scheduleId: retimed.id, tickMs: retimed.nextTickAt!.getTime() })).toBe("stale");
    expect(await armedTicks(retimed.id)).toEqual([moved.nextTickAt!.getTime()]);

    for (const id of [paused.id, deleted.id, retimed.id]) expect(await runsOf(id)).toEqual([]);
  });

  test("after an outage the armed tick fires late, and older missed ticks are skipped", async () => {
    const schedule = await engine().schedules.create(f.environment, { ...hourly, cron: "* * * * *" });
    const hourAgo = new Date(Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000);
    const firedAt = Date.now();
    await f.db.prisma.schedule.update({ where: { id: schedule.id }, data: { nextTickAt: hourAgo } });
    expect(await engine().scheduleTicks.fire({ scheduleId: schedule.id, tickMs: hourAgo.getTime() })).toBe("fired");
    expect((await runsOf(schedule.id)).map((r) => (r.payload as { timestamp: string }).timestamp)).toEqual([hourAgo.toISOString()]);
    // The next tick is the first one inside the catch-up window (5 minutes back from now), not the
    // minute after the old tick: the 55 ticks before it are skipped.
    const next = (await scheduleOf(schedule.id)).nextTickAt!.getTime();
    expect(next).toBeGreaterThan(firedAt - 300_000);
    expect(next).toBeLessThanOrEqual(Date.now() - 300_000 + 60_000);
  });

  test("a tick the engine refuses (its task no longer declared) is skipped, and the schedule moves on", async () => {
    const schedule = await engine().schedules.create(f.environment, hourly);
    await f.db.prisma.schedule.update({ where: { id: schedule.id }, data: { taskIdentifier: "gone" } });
    expect(await fireCurrent(schedule.id)).toBe("refused");
    expect(await runsOf(schedule.id)).toEqual([]);
    expect((await scheduleOf(schedule.id)).nextTickAt!.getTime()).toBe(schedule.nextTickAt!.getTime() + 3_600_000);
  });

  test("armAll re-arms every active schedule's current tick after the jobs were lost", async () => {
    const active = await engine().schedules.create(f.environment, hourly);
    const paused = await engine().schedules.create(f.environment, hourly);
    await engine().schedules.deactivate(f.environment.id, paused.id);
    await schedulerQueue.obliterate({ force: true });
    expect(await armedTicks(active.id)).toEqual([]);

    const { active: activeCount, revived } = await engine().scheduleTicks.armAll();
    expect(activeCount).toBe(await f.db.prisma.schedule.count({ where: { active: true } }));
    expect(revived).toBe(0);
    expect(await armedTicks(active.id)).toEqual([active.nextTickAt!.getTime()]);
    expect(await armedTicks(paused.id)).toEqual([]);
    // Arming again adds nothing.
    await engine().scheduleTicks.armAll();
    expect(await armedTicks(active.id)).toHaveLength(1);
  });

  test("a tick whose job gave up (every attempt failed) is armed again by armAll, for its own instant", async () => {
    // Only this test's schedule is active, so the failing worker below can fail no other tick.
    await f.db.prisma.schedule.updateMany({ data: { active: false, nextTickAt: null } });
    const schedule = await engine().schedules.create(f.environment, hourly);
    const jobId = ScheduleArming.jobId(schedule.id, schedule.nextTickAt!);
    // The job runs now and fails for good, as it would after its last attempt in an outage.
    await schedulerQueue.remove(jobId);
    await schedulerQueue.add("fireScheduleTick", { scheduleId: schedule.id, tickMs: schedule.nextTickAt!.getTime() }, { jobId, attempts: 1 });
    const failing = new Worker(jobQueues.scheduler, async () => Promise.reject(new UnrecoverableError("postgres unreachable")), f.handle.jobQueuesOptions());
    await expect.poll(async () => (await schedulerQueue.getJob(jobId))?.failedReason, { timeout: 10_000 }).toBe("postgres unreachable");
    await failing.close();
    expect(await armedTicks(schedule.id)).toEqual([]);

    const { revived } = await engine().scheduleTicks.armAll();
    expect(revived).toBe(1);
    expect(await armedTicks(schedule.id)).toEqual([schedule.nextTickAt!.getTime()]);
    expect(await (await schedulerQueue.getJob(jobId))?.getState()).toBe("delayed");
  });
});
