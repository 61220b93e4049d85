import { describe, expect, test } from "vitest";
import { durationSchema, momentSchema, parseDurationMs } from "./duration.ts";
import { batchTriggerRequestSchema, triggerRequestSchema } from "./trigger.ts";
import { completeTokenRequestSchema, journalEntrySchema, waitSpecSchema } from "./waitpoint.ts";
import { completeAttemptRequestSchema } from "./workerProtocol.ts";

describe("durations", () => {
  test.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["1.5m", 90_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1w", 604_800_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
    expect(durationSchema.parse(text)).toBe(ms);
  });

  test.each(["", "10", "ten minutes", "-5s", "5y"])("%j is not a duration", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
    expect(durationSchema.safeParse(text).success).toBe(false);
  });

  test("a moment is a duration from now or an ISO date", () => {
    const before = Date.now();
    const soon = momentSchema.parse("10s");
    expect(soon.getTime()).toBeGreaterThanOrEqual(before + 10_000);
    expect(soon.getTime()).toBeLessThan(before + 11_000);
    expect(momentSchema.parse("2030-01-02T03:04:05Z").toISOString()).toBe("2030-01-02T03:04:05.000Z");
    expect(momentSchema.safeParse("tomorrow").success).toBe(false);
  });
});

describe("trigger request", () => {
  test("accepts every option of the design and fills the debounce mode", () => {
    const parsed = triggerRequestSchema.parse({
      payload: { a: 1 },
      options: {
        queue: "emails",
        concurrencyKey: "user-1",
        delay: "5m",
        ttl: "1h",
        idempotencyKey: "k",
        idempotencyKeyTTL: "1d",
        priority: 10,
        maxAttempts: 4,
        tags: ["a"],
        metadata: { source: "test" },
        debounce: { key: "d", delay: "2s" },
      },
    });
    expect(parsed.options?.ttl).toBe(3_600_000);
    expect(parsed.options?.delay).toBeInstanceOf(Date);
    expect(parsed.options?.debounce).toEqual({ key: "d", delay: 2_000, mode: "trailing" });
  });

  test.each([
    [{ payload: 1, options: { priority: -1 } }, ["options", "priority"]],
    [{ payload: 1, options: { maxAttempts: 0 } }, ["options", "maxAttempts"]],
    [{ payload: 1, options: { tags: "x" } }, ["options", "tags"]],
    [{ payload: 1, options: { ttl: "soon" } }, ["options", "ttl"]],
    [{ payload: 1, options: { queue: "bad queue" } }, ["options", "queue"]],
    [{ payload: 1, options: { debounce: { delay: "1s" } } }, ["options", "debounce", "key"]],
  ])("names the bad field: %j", (body, path) => {
    const result = triggerRequestSchema.safeParse(body);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
  });

  test("a batch holds 1 to 1,000 items", () => {
    expect(batchTriggerRequestSchema.safeParse({ items: [] }).success).toBe(false);
    expect(batchTriggerRequestSchema.safeParse({ items: Array.from({ length: 1_000 }, () => ({ payload: 1 })) }).success).toBe(true);
    expect(batchTriggerRequestSchema.safeParse({ items: Array.from({ length: 1_001 }, () => ({ payload: 1 })) }).success).toBe(false);
  });
});

// JSON has no undefined: a value the user's code left undefined arrives as a missing key, and must
// mean "nothing" rather than a 400 (a task that returns nothing would otherwise never succeed).
describe("values the user may leave undefined arrive as missing keys", () => {
  const overJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
  test.each([
    ["a trigger without a payload", triggerRequestSchema, { payload: undefined }],
    ["a batch item without a payload", batchTriggerRequestSchema, { items: [{ payload: undefined }] }],
    ["triggerAndWait of a task without a payload", waitSpecSchema, { kind: "run", taskId: "child", payload: undefined }],
    ["the result of a task that returned nothing", completeAttemptRequestSchema, { workerId: "w", snapshotId: "s", result: { ok: true, output: undefined } }],
    ["a step that returned nothing, in a journal", journalEntrySchema, { type: "step", id: "s", result: { ok: true, output: undefined } }],
    ["a token completed without data", completeTokenRequestSchema, { data: undefined }],
  ])("%s", (_name, schema, body) => {
    expect(schema.safeParse(overJson(body)).error).toBeUndefined();
  });
});
