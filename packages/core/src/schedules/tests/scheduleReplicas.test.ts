import type { Worker } from "bullmq";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createSchedulerWorker } from "../../jobs/schedulerWorker.ts";
import { startEngine, type EngineFixture } from "../../systems/tests/engineFixture.ts";

let f: EngineFixture;
let replicas: Worker[];
beforeAll(async () => {
  f = await startEngine("schedule_replicas");
  await f.registerWorker();
  // Two scheduler replicas, each with its own connections, consuming the same queue.
  replicas = [1, 2].map(() => createSchedulerWorker(f.handle.engine, { ...f.handle.jobQueuesOptions(), concurrency: 10 }));
});
afterAll(async () => {
  await Promise.all(replicas.map((worker) => worker.close()));
  await f.close();
});

const tickTimes = async (scheduleId: string) =>
  (await f.db.prisma.taskRun.findMany({ where: { scheduleId } })).map((run) => new Date((run.payload as { timestamp: string }).timestamp).getTime()).sort((a, b) => a - b);

test("an every-second schedule fires each tick once across two replicas, consecutively, and stops when paused", async () => {
  const schedule = await f.handle.engine.schedules.create(f.environment, { taskId: "hello", cron: "* * * * * *", timezone: "UTC" });
  await expect.poll(async () => (await tickTimes(schedule.id)).length, { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(5);
  await f.handle.engine.schedules.deactivate(f.environment.id, schedule.id);
  // A tick already being fired when the schedule was paused may still finish its run.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const ticks = await tickTimes(schedule.id);

  expect(ticks[0]).toBe(schedule.nextTickAt!.getTime());
  expect(new Set(ticks).size).toBe(ticks.length);
  ticks.slice(1).forEach((tick, i) => expect(tick - ticks[i]!).toBe(1_000));
  const runs = await f.db.prisma.taskRun.findMany({ where: { scheduleId: schedule.id } });
  for (const run of runs) {
    const { timestamp, lastTimestamp } = run.payload as { timestamp: string; lastTimestamp?: string };
    const tick = new Date(timestamp).getTime();
    expect(lastTimestamp === undefined ? undefined : new Date(lastTimestamp).getTime()).toBe(tick === ticks[0] ? undefined : tick - 1_000);
  }

  // Every tick's run was counted and its lag observed, on the engine's metrics.
  const fired = (await f.handle.engine.resources.metrics.scheduleTicks.get()).values.find((v) => v.labels.outcome === "fired")?.value;
  expect(fired).toBeGreaterThanOrEqual(ticks.length);
  const lags = (await f.handle.engine.resources.metrics.scheduleTickLag.get()).values.find((v) => v.metricName === "runengine_schedule_tick_lag_seconds_count")?.value;
  expect(lags).toBe(ticks.length);

  // Paused: nothing more fires, even past several ticks.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  expect(await tickTimes(schedule.id)).toEqual(ticks);
});
