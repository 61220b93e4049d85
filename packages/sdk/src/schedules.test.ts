import { describe, expect, expectTypeOf, test } from "vitest";
import { ZodError } from "zod";
import { schedules, type ScheduledRunPayload } from "./schedules.ts";
import { isTask, task, type PayloadOf, type TaskRunParams } from "./task.ts";
import { toTaskManifest } from "./worker/taskManifest.ts";

const params = {} as TaskRunParams;

describe("schedules.task()", () => {
  test("is a task that carries its schedule to the worker's registration", () => {
    const nightly = schedules.task({ id: "nightly-report", cron: "0 3 * * *", timezone: "Europe/Paris", run: async () => "done" });
    expect(isTask(nightly)).toBe(true);
    expect(nightly.schedule).toEqual({ cron: "0 3 * * *", timezone: "Europe/Paris" });
    expect(toTaskManifest(nightly)).toMatchObject({ id: "nightly-report", queue: { name: "task/nightly-report" }, schedule: { cron: "0 3 * * *", timezone: "Europe/Paris" } });
    expectTypeOf<PayloadOf<typeof nightly>>().toEqualTypeOf<ScheduledRunPayload>();
  });

  test("the time zone defaults to UTC; a plain task's manifest has no schedule", () => {
    expect(schedules.task({ id: "tick", cron: "* * * * * *", run: () => 1 }).schedule).toEqual({ cron: "* * * * * *", timezone: "UTC" });
    expect(toTaskManifest(task({ id: "plain", run: () => 1 }))).not.toHaveProperty("schedule");
  });

  test.each([
    [{ cron: "* * * *" }, "cron"],
    [{ cron: "0 25 * * *" }, "cron"],
    [{ cron: "0 * * * *", timezone: "Atlantis/Capital" }, "timezone"],
  ])("refuses %j naming the field", (timing, field) => {
    try {
      schedules.task({ id: "bad", run: () => 1, ...timing } as never);
      expect.unreachable("schedules.task accepted a bad schedule");
    } catch (error) {
      expect(error).toBeInstanceOf(ZodError);
      expect((error as ZodError).issues[0]?.path).toEqual([field]);
    }
  });

  test("the run gets the tick's instants as Dates, parsed from the JSON payload", async () => {
    const seen: ScheduledRunPayload[] = [];
    const everyMinute = schedules.task({ id: "every-minute", cron: "* * * * *", run: (payload) => void seen.push(payload) });
    await everyMinute.run(
      { scheduleId: "s1", timestamp: "2026-01-01T00:01:00.000Z", lastTimestamp: "2026-01-01T00:00:00.000Z", timezone: "UTC", externalId: "u1" } as never,
      params,
    );
    await everyMinute.run({ scheduleId: "s1", timestamp: "2026-01-01T00:00:00.000Z", timezone: "UTC" } as never, params);
    expect(seen).toEqual([
      { scheduleId: "s1", timestamp: new Date("2026-01-01T00:01:00.000Z"), lastTimestamp: new Date("2026-01-01T00:00:00.000Z"), timezone: "UTC", externalId: "u1" },
      { scheduleId: "s1", timestamp: new Date("2026-01-01T00:00:00.000Z"), timezone: "UTC" },
    ]);
  });
});
