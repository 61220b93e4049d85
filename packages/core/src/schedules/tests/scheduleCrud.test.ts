import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { AuthenticatedEnvironment } from "../../environments/apiKeys.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../errors/runEngineError.ts";
import { jobQueues } from "../../jobs/catalog.ts";
import { fastRetry, startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";
import { ScheduleArming } from "../scheduleArming.ts";

let f: EngineFixture;
let other: AuthenticatedEnvironment;
let schedulerQueue: Queue;
beforeAll(async () => {
  f = await startEngine("schedule_crud");
  await f.registerWorker();
  ({ environment: other } = await f.handle.engine.createEnvironment({ name: "other" }));
  await f.handle.engine.registerWorker(other, { version: "v1", name: "other-worker", concurrency: 1, tasks: [{ id: "hello", queue: { name: "hello" }, retry: fastRetry }] });
  schedulerQueue = new Queue(jobQueues.scheduler, f.handle.jobQueuesOptions());
});
afterAll(async () => {
  await schedulerQueue.close();
  await f.close();
});

const schedules = () => f.handle.engine.schedules;
const hourly = { taskId: "hello", cron: "0 * * * *", timezone: "UTC" };
const armedTicks = async (scheduleId: string) =>
  (await schedulerQueue.getJobs(["delayed", "waiting"]))
    .filter((job) => job.data.scheduleId === scheduleId)
    .map((job) => ({ id: job.id, tick: new Date(job.data.tickMs as number).toISOString() }));

describe("imperative schedules", () => {
  test("create stores the schedule and arms exactly its next tick", async () => {
    const before = Date.now();
    const schedule = await schedules().create(f.environment, { ...hourly, externalId: "customer-7" });
    expect(schedule).toMatchObject({ type: "IMPERATIVE", taskIdentifier: "hello", cron: "0 * * * *", timezone: "UTC", externalId: "customer-7", active: true, lastTickAt: null });
    const nextHour = Math.ceil((before + 1) / 3_600_000) * 3_600_000;
    expect(schedule.nextTickAt?.getTime()).toBe(nextHour);
    expect(await armedTicks(schedule.id)).toEqual([{ id: ScheduleArming.jobId(schedule.id, schedule.nextTickAt!), tick: new Date(nextHour).toISOString() }]);
  });

  test("a task no deployment declares is refused on the taskId field, and nothing is stored", async () => {
    const count = await f.db.prisma.schedule.count();
    const refusal = await schedules().create(f.environment, { ...hourly, taskId: "nope" }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect((refusal as ValidationError).field).toBe("taskId");
    expect(await f.db.prisma.schedule.count()).toBe(count);
  });

  test("the same deduplicationKey updates the existing schedule instead of adding one", async () => {
    const first = await schedules().create(f.environment, { ...hourly, deduplicationKey: "report-daily" });
    const second = await schedules().create(f.environment, { ...hourly, cron: "30 6 * * *", timezone: "Europe/Paris", deduplicationKey: "report-daily" });
    expect(second.id).toBe(first.id);
    expect(second).toMatchObject({ cron: "30 6 * * *", timezone: "Europe/Paris" });
    expect(await f.db.prisma.schedule.count({ where: { deduplicationKey: "report-daily" } })).toBe(1);
    // The re-timed schedule's old tick is disarmed and its new one armed.
    expect(await armedTicks(first.id)).toEqual([{ id: ScheduleArming.jobId(first.id, second.nextTickAt!), tick: second.nextTickAt!.toISOString() }]);
    // The same key in another environment is another schedule.
    const elsewhere = await schedules().create(other, { ...hourly, deduplicationKey: "report-daily" });
    expect(elsewhere.id).not.toBe(first.id);
  });

  test("two creates racing on one deduplicationKey leave one schedule", async () => {
    const results = await Promise.all([1, 2, 3].map(() => schedules().create(f.environment, { ...hourly, deduplicationKey: "raced" })));
    expect(new Set(results.map((s) => s.id)).size).toBe(1);
    expect(await f.db.prisma.schedule.count({ where: { deduplicationKey: "raced" } })).toBe(1);
  });

  test("update re-times; deactivate disarms; activate re-arms; delete removes", async () => {
    const schedule = await schedules().create(f.environment, hourly);
    const updated = await schedules().update(f.environment.id, schedule.id, { ...hourly, cron: "*/10 * * * * *" });
    expect(updated.nextTickAt!.getTime()).toBeLessThan(schedule.nextTickAt!.getTime());
    expect(await armedTicks(schedule.id)).toEqual([expect.objectContaining({ tick: updated.nextTickAt!.toISOString() })]);

    const paused = await schedules().deactivate(f.environment.id, schedule.id);
    expect(paused).toMatchObject({ active: false, nextTickAt: null });
    expect(await armedTicks(schedule.id)).toEqual([]);

    const resumed = await schedules().activate(f.environment.id, schedule.id);
    expect(resumed.active).toBe(true);
    expect(await armedTicks(schedule.id)).toEqual([expect.objectContaining({ tick: resumed.nextTickAt!.toISOString() })]);

    await schedules().delete(f.environment.id, schedule.id);
    await expect(schedules().get(f.environment.id, schedule.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await armedTicks(schedule.id)).toEqual([]);
  });

  test("another environment can neither read nor change a schedule: not found", async () => {
    const schedule = await schedules().create(f.environment, hourly);
    await expect(schedules().get(other.id, schedule.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(schedules().update(other.id, schedule.id, hourly)).rejects.toBeInstanceOf(NotFoundError);
    await expect(schedules().deactivate(other.id, schedule.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(schedules().activate(other.id, schedule.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(schedules().delete(other.id, schedule.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await schedules().list(other.id, { limit: 100 })).schedules.map((s) => s.id)).not.toContain(schedule.id);
    expect(await schedules().get(f.environment.id, schedule.id)).toMatchObject({ active: true, cron: hourly.cron });
  });

  test("list pages newest first and filters by task", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await schedules().list(f.environment.id, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.schedules.length).toBeLessThanOrEqual(2);
      seen.push(...page.schedules.map((s) => s.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    const all = await f.db.prisma.schedule.findMany({ where: { environmentId: f.environment.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    expect(seen).toEqual(all.map((s) => s.id));
    expect((await schedules().list(f.environment.id, { limit: 100, taskId: "nope" })).schedules).toEqual([]);
    await expect(schedules().list(other.id, { limit: 2, cursor: all[0]!.id })).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("declarative schedules", () => {
  const scheduled = (cron: string) => ({ id: "nightly", queue: { name: "nightly" }, retry: fastRetry, schedule: { cron, timezone: "UTC" } });
  const declared = () => f.db.prisma.schedule.findMany({ where: { environmentId: f.environment.id, type: "DECLARATIVE" } });

  test("the newest version's registration creates, re-times and removes them; older versions change nothing", async () => {
    await f.registerWorker([scheduled("0 3 * * *")], "d1");
    expect(await declared()).toEqual([expect.objectContaining({ taskIdentifier: "nightly", cron: "0 3 * * *", active: true, deduplicationKey: "declarative:nightly" })]);
    const [first] = await declared();

    // Another worker of the same version registering is a no-op.
    await f.registerWorker([scheduled("0 3 * * *")], "d1");
    expect(await declared()).toEqual([expect.objectContaining({ id: first!.id, nextTickAt: first!.nextTickAt })]);

    await f.registerWorker([scheduled("0 4 * * *")], "d2");
    expect(await declared()).toEqual([expect.objectContaining({ id: first!.id, cron: "0 4 * * *" })]);
    expect(await armedTicks(first!.id)).toEqual([expect.objectContaining({ tick: (await declared())[0]!.nextTickAt!.toISOString() })]);

    // A d1 worker restarting does not roll the schedule back.
    await f.registerWorker([scheduled("0 3 * * *")], "d1");
    expect((await declared())[0]?.cron).toBe("0 4 * * *");

    // The API cannot change what code declares, only pause it.
    await expect(schedules().update(f.environment.id, first!.id, { taskId: "nightly", cron: "* * * * *", timezone: "UTC" })).rejects.toBeInstanceOf(ConflictError);
    await expect(schedules().delete(f.environment.id, first!.id)).rejects.toBeInstanceOf(ConflictError);
    expect((await schedules().deactivate(f.environment.id, first!.id)).active).toBe(false);
    await schedules().activate(f.environment.id, first!.id);

    // A version whose code dropped the schedule removes it.
    await f.registerWorker([{ id: "nightly", queue: { name: "nightly" }, retry: fastRetry }], "d3");
    expect(await declared()).toEqual([]);
    expect(await armedTicks(first!.id)).toEqual([]);
  });
});
