import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient, type Run } from "@runengine/sdk";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * Cron schedules against the real processes: two scheduler replicas, a worker process running the
 * scheduled tasks, schedules managed through the SDK client as a user would.
 */
let e: E2EEngine;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_schedules");
  await e.engine.start("scheduler-1");
  // Only the api is waited for by the fixture; the ticks under test must not start before a scheduler.
  await waitForSchedulers();
  await e.startWorker("scheduled-worker", 10, { tasksFile: "scheduledTasks.ts", version: "schedules-1" });
}, 300_000);
afterAll(async () => {
  await e?.close();
});

function waitForSchedulers(): Promise<void> {
  const schedulers = [...e.engine.processes.entries()].filter(([name]) => name.startsWith("scheduler-")).map(([, child]) => child);
  // Starting a process takes long on a loaded 2-core machine.
  return waitFor(() => schedulers.every((child) => child.output().includes(`"event":"service:started"`)), 150_000, 100);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runsOf(taskId: string): Promise<Run[]> {
  const runs: Run[] = [];
  for await (const run of e.client.runs.iterate({ taskId })) runs.push(run);
  return runs;
}

/** The tick instants (ms) of the runs a schedule triggered, sorted. */
async function ticksOf(taskId: string, scheduleId: string): Promise<number[]> {
  return (await runsOf(taskId))
    .filter((run) => (run.payload as { scheduleId: string }).scheduleId === scheduleId)
    .map((run) => new Date((run.payload as { timestamp: string }).timestamp).getTime())
    .sort((a, b) => a - b);
}

function expectConsecutiveSeconds(ticks: number[]): void {
  expect(new Set(ticks).size, "a tick fired twice").toBe(ticks.length);
  const gaps = ticks.slice(1).map((tick, i) => tick - ticks[i]!);
  expect(gaps.every((gap) => gap === 1_000), `gaps between ticks: ${gaps.join(",")}`).toBe(true);
}

describe("schedules end to end", () => {
  test("every second with two scheduler replicas: each tick fires exactly once, with no gaps, even when one replica stops", async () => {
    const schedule = await e.client.schedules.create({ task: "scheduled-echo", cron: "* * * * * *", externalId: "tenant-1" });
    expect(schedule).toMatchObject({ type: "IMPERATIVE", active: true, taskId: "scheduled-echo" });
    await waitFor(async () => (await ticksOf("scheduled-echo", schedule.id)).length >= 4, 30_000, 250);

    // A replica shutting down gracefully finishes its job; the other takes every later tick.
    await e.engine.kill("scheduler-0", "SIGTERM");
    const afterStop = (await ticksOf("scheduled-echo", schedule.id)).length;
    await waitFor(async () => (await ticksOf("scheduled-echo", schedule.id)).length >= afterStop + 4, 30_000, 250);
    await e.client.schedules.deactivate(schedule.id);
    await sleep(1_500);

    const ticks = await ticksOf("scheduled-echo", schedule.id);
    expect(ticks.length).toBeGreaterThanOrEqual(8);
    expect(ticks[0]).toBe(schedule.nextTickAt!.getTime());
    expectConsecutiveSeconds(ticks);

    // The runs really ran on the worker, each with its tick in the payload.
    const runs = (await runsOf("scheduled-echo")).filter((run) => (run.payload as { scheduleId: string }).scheduleId === schedule.id);
    const finished = await Promise.all(runs.map((run) => e.client.runs.poll(run.id, { intervalMs: 250, timeoutMs: 60_000 })));
    for (const run of finished) {
      expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
      const payload = run.payload as { timestamp: string; lastTimestamp?: string; externalId: string; timezone: string };
      expect(payload).toMatchObject({ externalId: "tenant-1", timezone: "UTC" });
      expect(run.output).toEqual({ tick: payload.timestamp, scheduleId: schedule.id });
      if (payload.lastTimestamp) expect(new Date(payload.timestamp).getTime() - new Date(payload.lastTimestamp).getTime()).toBe(1_000);
    }
  }, 240_000);

  test("a paused schedule does not fire; activated it fires again; deleted it stops for good", async () => {
    const schedule = await e.client.schedules.create({ task: "scheduled-echo", cron: "* * * * * *", deduplicationKey: "pause-test" });
    await waitFor(async () => (await ticksOf("scheduled-echo", schedule.id)).length >= 2, 30_000, 250);

    const paused = await e.client.schedules.deactivate(schedule.id);
    expect(paused).toMatchObject({ active: false, nextTickAt: null });
    await sleep(1_500);
    const whilePaused = await ticksOf("scheduled-echo", schedule.id);
    await sleep(3_000);
    expect(await ticksOf("scheduled-echo", schedule.id)).toEqual(whilePaused);

    const resumed = await e.client.schedules.activate(schedule.id);
    expect(resumed.active).toBe(true);
    await waitFor(async () => (await ticksOf("scheduled-echo", schedule.id)).length >= whilePaused.length + 2, 30_000, 250);
    const resumedTicks = (await ticksOf("scheduled-echo", schedule.id)).filter((tick) => tick >= resumed.nextTickAt!.getTime());
    expect(resumedTicks[0]).toBe(resumed.nextTickAt!.getTime());

    expect(await e.client.schedules.del(schedule.id)).toEqual({ id: schedule.id, deleted: true });
    await sleep(1_500);
    const whenDeleted = await ticksOf("scheduled-echo", schedule.id);
    await sleep(3_000);
    expect(await ticksOf("scheduled-echo", schedule.id)).toEqual(whenDeleted);
    await expect(e.client.schedules.retrieve(schedule.id)).rejects.toMatchObject({ status: 404 });
  }, 240_000);

  test("editing the cron moves the next tick; another environment's key cannot see or change the schedule", async () => {
    const schedule = await e.client.schedules.create({ task: "scheduled-echo", cron: "0 0 1 1 *", timezone: "Europe/Paris" });
    expect(schedule.nextTickAt!.getTime()).toBeGreaterThan(Date.now() + 3_600_000);
    const edited = await e.client.schedules.update(schedule.id, { task: "scheduled-echo", cron: "*/2 * * * * *" });
    expect(edited.nextTickAt!.getTime()).toBeLessThanOrEqual(Date.now() + 2_000);
    await waitFor(async () => (await ticksOf("scheduled-echo", schedule.id)).length >= 2, 30_000, 250);
    const ticks = await ticksOf("scheduled-echo", schedule.id);
    expect(ticks.every((tick) => tick % 2_000 === 0)).toBe(true);

    const other = await e.createEnvironment("other-tenant");
    const stranger = createClient({ apiUrl: e.engine.apiUrl, apiKey: other.apiKey });
    await expect(stranger.schedules.retrieve(schedule.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.schedules.deactivate(schedule.id)).rejects.toMatchObject({ status: 404 });
    await expect(stranger.schedules.del(schedule.id)).rejects.toMatchObject({ status: 404 });
    expect((await stranger.schedules.list()).data).toEqual([]);
    expect((await e.client.schedules.retrieve(schedule.id)).active).toBe(true);
    await e.client.schedules.del(schedule.id);
  });

  test("a schedule declared with schedules.task fires from the worker's registration, its ticks parsed as Dates", async () => {
    const { data } = await e.client.schedules.list({ taskId: "declared-every-second" });
    expect(data).toEqual([expect.objectContaining({ type: "DECLARATIVE", cron: "* * * * * *", timezone: "UTC", active: true })]);
    const [declared] = data;
    await waitFor(async () => (await ticksOf("declared-every-second", declared!.id)).length >= 3, 30_000, 250);
    const [run] = (await runsOf("declared-every-second")).filter((r) => (r.payload as { scheduleId: string }).scheduleId === declared!.id);
    const finished = await e.client.runs.poll(run!.id, { intervalMs: 250, timeoutMs: 60_000 });
    expect(finished.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(finished.output).toEqual({ tick: (run!.payload as { timestamp: string }).timestamp, tickIsDate: true });
    expectConsecutiveSeconds(await ticksOf("declared-every-second", declared!.id));
  });
});
