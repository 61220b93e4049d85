import { describe, expect, test } from "vitest";
import { ValidationError } from "../errors/runEngineError.ts";
import { cronSchema, timezoneSchema } from "../schemas/schedule.ts";
import { cronProblem, isTimeZone, nextTick } from "./cron.ts";

const at = (iso: string) => new Date(iso);
const ticks = (cron: string, timezone: string, after: string, count: number) => {
  const out: string[] = [];
  let previous = at(after);
  for (let i = 0; i < count; i++) {
    previous = nextTick(cron, timezone, previous);
    out.push(previous.toISOString());
  }
  return out;
};

describe("cron expressions", () => {
  test("5 fields, or 6 with seconds first; anything else names the problem", () => {
    expect(cronProblem("*/5 * * * *")).toBeUndefined();
    expect(cronProblem("* * * * * *")).toBeUndefined();
    expect(cronProblem("0 9 * * MON-FRI")).toBeUndefined();
    expect(cronProblem("* * * *")).toMatch(/expected 5 fields .* got 4/);
    expect(cronProblem("* * * * * * *")).toMatch(/got 7/);
    expect(cronProblem("@daily")).toMatch(/got 1/);
    expect(cronProblem("")).toMatch(/got 0/);
    expect(cronProblem("61 * * * *")).toMatch(/61/);
    expect(cronProblem("* * 32 * *")).toMatch(/32/);
    expect(cronProblem("a b c d e")).toBeDefined();
    expect(cronProblem("0 0 31 4 *")).toMatch(/day of month/);
  });

  test("the zod schemas refuse bad cron and time zones with a readable message", () => {
    expect(cronSchema.safeParse("0 0 * * *").success).toBe(true);
    expect(cronSchema.safeParse("0 0 * *").error?.issues[0]?.message).toMatch(/not a cron expression: expected 5 fields/);
    expect(timezoneSchema.safeParse("Europe/Paris").success).toBe(true);
    expect(timezoneSchema.safeParse("Mars/Olympus").error?.issues[0]?.message).toMatch(/IANA/);
  });

  test("IANA time zones are known; other strings are not", () => {
    for (const zone of ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata"]) expect(isTimeZone(zone)).toBe(true);
    for (const zone of ["", "Nowhere/City", "UTC+25", "utc but longer"]) expect(isTimeZone(zone)).toBe(false);
  });
});

describe("next tick", () => {
  test("every second: the next whole second, strictly after the given instant", () => {
    expect(ticks("* * * * * *", "UTC", "2026-01-01T00:00:00.500Z", 3)).toEqual([
      "2026-01-01T00:00:01.000Z",
      "2026-01-01T00:00:02.000Z",
      "2026-01-01T00:00:03.000Z",
    ]);
    expect(nextTick("* * * * * *", "UTC", at("2026-01-01T00:00:01.000Z")).toISOString()).toBe("2026-01-01T00:00:02.000Z");
  });

  test("5-field expressions tick on whole minutes", () => {
    expect(ticks("*/15 * * * *", "UTC", "2026-01-01T10:07:12Z", 3)).toEqual([
      "2026-01-01T10:15:00.000Z",
      "2026-01-01T10:30:00.000Z",
      "2026-01-01T10:45:00.000Z",
    ]);
  });

  test("a time zone places the wall-clock time", () => {
    expect(nextTick("0 9 * * *", "Europe/Paris", at("2026-01-15T12:00:00Z")).toISOString()).toBe("2026-01-16T08:00:00.000Z");
    expect(nextTick("0 9 * * *", "Europe/Paris", at("2026-07-15T12:00:00Z")).toISOString()).toBe("2026-07-16T07:00:00.000Z");
    expect(nextTick("0 9 * * *", "Asia/Kolkata", at("2026-01-15T00:00:00Z")).toISOString()).toBe("2026-01-15T03:30:00.000Z");
  });

  test("DST: a skipped wall-clock time fires once, shifted; a repeated one fires once", () => {
    // New York springs forward on 2026-03-08 (02:00 → 03:00): 02:30 does not exist that day.
    expect(ticks("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2)).toEqual(["2026-03-08T07:30:00.000Z", "2026-03-09T06:30:00.000Z"]);
    // It falls back on 2026-11-01 (02:00 → 01:00): 01:30 happens twice, the schedule fires once.
    expect(ticks("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2)).toEqual(["2026-11-01T05:30:00.000Z", "2026-11-02T06:30:00.000Z"]);
    // Hourly across the fall-back: one tick per real hour, none lost, none doubled.
    expect(ticks("0 * * * *", "America/New_York", "2026-11-01T04:30:00Z", 3)).toEqual([
      "2026-11-01T05:00:00.000Z",
      "2026-11-01T06:00:00.000Z",
      "2026-11-01T07:00:00.000Z",
    ]);
  });

  test("bad input is a ValidationError naming the field", () => {
    expect(() => nextTick("* * *", "UTC", new Date())).toThrow(ValidationError);
    expect(() => nextTick("* * *", "UTC", new Date())).toThrow(/^cron: /);
    expect(() => nextTick("* * * * *", "Not/AZone", new Date())).toThrow(/^timezone: /);
  });
});
