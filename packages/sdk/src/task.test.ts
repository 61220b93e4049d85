import { describe, expect, expectTypeOf, test } from "vitest";
import { ZodError } from "zod";
import { AbortTaskRunError, serializeError } from "./errors.ts";
import { defaultRetry, isTask, task, type OutputOf, type PayloadOf } from "./task.ts";

describe("task()", () => {
  test("fills defaults: a queue of its own and the default retry policy", () => {
    const t = task({ id: "email/send", run: async () => "sent" });
    expect(t.queue).toEqual({ name: "task/email/send" });
    expect(t.retry).toEqual(defaultRetry);
    expect(t.maxDuration).toBeUndefined();
  });

  test("keeps what the author set and merges the rest of the retry policy", () => {
    const t = task({
      id: "resize",
      queue: { name: "images", concurrencyLimit: 3 },
      retry: { maxAttempts: 5, minTimeoutInMs: 10 },
      maxDuration: 30,
      run: async (payload: { url: string }) => payload.url.length,
    });
    expect(t.queue).toEqual({ name: "images", concurrencyLimit: 3 });
    expect(t.retry).toEqual({ ...defaultRetry, maxAttempts: 5, minTimeoutInMs: 10 });
    expect(t.maxDuration).toBe(30);
    expectTypeOf<PayloadOf<typeof t>>().toEqualTypeOf<{ url: string }>();
    expectTypeOf<OutputOf<typeof t>>().toEqualTypeOf<number>();
  });

  const badOptions: Array<[unknown, string]> = [
    [{ id: "", run: () => 1 }, "id"],
    [{ id: "has space", run: () => 1 }, "id"],
    [{ id: "ok", retry: { maxAttempts: 0 }, run: () => 1 }, "retry"],
    [{ id: "ok", retry: { minTimeoutInMs: 10, maxTimeoutInMs: 5 }, run: () => 1 }, "retry"],
    [{ id: "ok", queue: { name: "q", concurrencyLimit: -1 }, run: () => 1 }, "queue"],
    [{ id: "ok", run: "not a function" }, "run"],
  ];
  test.each(badOptions)("refuses bad options naming the field: %j", (options, field) => {
    try {
      task(options as never);
      expect.unreachable("task() accepted bad options");
    } catch (error) {
      expect(error).toBeInstanceOf(ZodError);
      expect((error as ZodError).issues[0]?.path[0]).toBe(field);
    }
  });
});

test("isTask recognises a defined task by shape, and nothing else", () => {
  expect(isTask(task({ id: "t", run: () => 1 }))).toBe(true);
  expect(isTask({ ...task({ id: "copy", run: () => 1 }) })).toBe(true);
  for (const other of [null, "t", { id: "t", run: () => 1 }, { id: "t", queue: {}, retry: {} }]) expect(isTask(other)).toBe(false);
});

describe("serializeError", () => {
  test("keeps name, message and stack; an AbortTaskRunError is not retryable", () => {
    const plain = serializeError(new TypeError("boom"));
    expect(plain).toMatchObject({ name: "TypeError", message: "boom", retryable: true });
    expect(plain.stack).toContain("boom");
    expect(serializeError(new AbortTaskRunError("stop"))).toMatchObject({ name: "AbortTaskRunError", retryable: false });
  });

  test("a thrown non-error becomes readable text", () => {
    expect(serializeError({ reason: "x" })).toEqual({ name: "NonErrorThrown", message: '{"reason":"x"}', retryable: true });
    expect(serializeError("plain")).toMatchObject({ message: "plain" });
  });
});
