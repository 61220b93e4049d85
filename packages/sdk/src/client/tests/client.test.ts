import { describe, expect, expectTypeOf, test } from "vitest";
import { createClient, RunPollTimeoutError, type Run, type TriggeredRun } from "../../client.ts";
import { RunEngineApiError, RunEngineConnectionError } from "../../http/apiErrors.ts";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";
import type { FakeEngine } from "../../testing/fakeEngine.ts";
import { task } from "../../task.ts";

const fake = useFakeEngine();

const sendEmail = task({ id: "email/send", run: async (payload: { to: string }) => ({ delivered: payload.to }) });

function clientFor(engine: FakeEngine, apiKey = engine.apiKey) {
  return createClient({ apiUrl: `${engine.url}/`, apiKey, retry: { minDelayMs: 5, maxDelayMs: 20 } });
}

describe("client calls", () => {
  test("trigger and batchTrigger hit the task's routes with the key, payload and options", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);

    const triggered = await client.trigger(sendEmail, { to: "a@example.com" }, { tags: ["welcome"], delay: "5m" });
    expect(triggered).toEqual({ id: expect.any(String), isCached: false });
    const [call] = engine.routeCalls("trigger");
    expect(call).toMatchObject({
      method: "POST",
      path: "/api/v1/tasks/email%2Fsend/trigger",
      authorization: `Bearer ${engine.apiKey}`,
      body: { payload: { to: "a@example.com" }, options: { tags: ["welcome"], delay: "5m" } },
    });
    expect(engine.runs.get(triggered.id)?.taskId).toBe("email/send");

    const batch = await client.batchTrigger(sendEmail, [{ payload: { to: "b@example.com" } }, { payload: { to: "c@example.com" } }]);
    expect(batch.runs).toHaveLength(2);
    expect(engine.routeCalls("batch")[0]).toMatchObject({ path: "/api/v1/tasks/email%2Fsend/batch", body: { items: [{ payload: { to: "b@example.com" } }, { payload: { to: "c@example.com" } }] } });

    const byId = await client.trigger("email/send", "anything goes without the task object");
    expect(engine.runs.get(byId.id)?.payload).toBe("anything goes without the task object");
  });

  test("types flow from the task: payload checked, output typed", () => {
    const client = createClient({ apiUrl: "http://127.0.0.1:1", apiKey: "k" });
    expectTypeOf(client.trigger<typeof sendEmail>).parameter(1).toEqualTypeOf<{ to: string }>();
    // @ts-expect-error the payload must match the task's
    void (() => client.trigger(sendEmail, { to: 1 }));
    expectTypeOf<Awaited<ReturnType<typeof client.runs.retrieve<typeof sendEmail>>>["output"]>().toEqualTypeOf<{ delivered: string } | null>();
    expectTypeOf<Run["output"]>().toEqualTypeOf<unknown>();
    // A backend that only imports the task's type names it by id.
    const byId = () => client.trigger<typeof sendEmail>("email/send", { to: "a" });
    expectTypeOf<Awaited<ReturnType<typeof byId>>>().toEqualTypeOf<TriggeredRun<typeof sendEmail>>();
    // @ts-expect-error the payload is checked against the named task's
    void (() => client.trigger<typeof sendEmail>("email/send", { to: 1 }));
    const untyped = () => client.trigger("email/send", 42);
    expectTypeOf<Awaited<ReturnType<typeof untyped>>>().toEqualTypeOf<TriggeredRun>();
  });

  test("retrieve, list, history and cancel read the run routes", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    const { id } = await client.trigger(sendEmail, { to: "a@example.com" }, { tags: ["x"] });

    const run = await client.runs.retrieve(id);
    expect(run).toMatchObject({ id, taskId: "email/send", status: "PENDING", attemptCount: 0, payload: { to: "a@example.com" }, tags: ["x"], output: null, error: null, startedAt: null });
    expect(run.createdAt).toBeInstanceOf(Date);

    const page = await client.runs.list({ taskId: "email/send", status: "PENDING" });
    expect(page.data.map((r) => r.id)).toEqual([id]);
    expect(page.nextCursor).toBeNull();
    expect(engine.routeCalls("list")[0]?.path).toBe("/api/v1/runs?taskId=email%2Fsend&status=PENDING");

    const { snapshots: history } = await client.runs.history(id);
    expect(history.map((s) => s.executionStatus)).toEqual(["QUEUED"]);
    expect(history[0]).toMatchObject({ runStatus: "PENDING", previousSnapshotId: null });

    expect(await client.runs.cancel(id)).toEqual({ id, status: "CANCELED" });
    expect(engine.routeCalls("cancel")[0]?.path).toBe(`/api/v1/runs/${id}/cancel`);
  });

  test("runs.iterate walks every page", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    const ids = Array.from({ length: 7 }, (_, i) => engine.enqueue("email/send", { to: `${i}@example.com` }).id);

    const seen: string[] = [];
    for await (const run of client.runs.iterate({ limit: 3 })) seen.push(run.id);
    expect(seen).toEqual(ids);
    expect(engine.routeCalls("list").map((call) => new URL(call.path, "http://x").searchParams.get("cursor"))).toEqual([null, ids[2], ids[5]]);
  });
});

describe("errors and retries", () => {
  test("an error reply becomes a RunEngineApiError with status, code, message and field", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);

    const invalid = await client.trigger(sendEmail, { to: "a" }, { priority: -1 }).catch((error: unknown) => error);
    expect(invalid).toBeInstanceOf(RunEngineApiError);
    expect(invalid).toMatchObject({ status: 400, code: "VALIDATION", field: "options.priority" });

    await expect(client.runs.retrieve("run_missing")).rejects.toMatchObject({ status: 404, code: "NOT_FOUND", field: undefined });
    await expect(clientFor(engine, "wrong").runs.retrieve("x")).rejects.toMatchObject({ status: 401, code: "UNAUTHORIZED" });

    engine.failNext("retrieve", 1, { status: 418, body: "not our error shape" });
    await expect(client.runs.retrieve("x")).rejects.toMatchObject({ status: 418, code: "HTTP_418" });
  });

  test("reads are retried on 5xx and network errors", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    const { id } = engine.enqueue("email/send", null);
    engine.failNext("retrieve", 1, { status: 503 });
    engine.failNext("retrieve", 1, "drop");

    expect((await client.runs.retrieve(id)).id).toBe(id);
    expect(engine.routeCalls("retrieve")).toHaveLength(3);

    engine.failNext("retrieve", 4, { status: 500 });
    await expect(client.runs.retrieve(id)).rejects.toMatchObject({ status: 500 });
    expect(engine.routeCalls("retrieve")).toHaveLength(7);
  });

  test("a trigger is retried only when it carries an idempotency key", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);

    engine.failNext("trigger", 1, "drop");
    await expect(client.trigger(sendEmail, { to: "a" })).rejects.toBeInstanceOf(RunEngineConnectionError);
    engine.failNext("trigger", 1, { status: 503 });
    await expect(client.trigger(sendEmail, { to: "a" })).rejects.toMatchObject({ status: 503 });
    expect(engine.routeCalls("trigger")).toHaveLength(2);

    engine.failNext("trigger", 1, "drop");
    const first = await client.trigger(sendEmail, { to: "a" }, { idempotencyKey: "welcome-a" });
    expect(engine.routeCalls("trigger")).toHaveLength(4);
    expect(await client.trigger(sendEmail, { to: "a" }, { idempotencyKey: "welcome-a" })).toEqual({ id: first.id, isCached: true });

    engine.failNext("batch", 1, { status: 502 });
    await expect(client.batchTrigger(sendEmail, [{ payload: { to: "a" }, options: { idempotencyKey: "k1" } }, { payload: { to: "b" } }])).rejects.toMatchObject({ status: 502 });
    engine.failNext("batch", 1, { status: 502 });
    const batch = await client.batchTrigger(sendEmail, [{ payload: { to: "a" }, options: { idempotencyKey: "k1" } }]);
    expect(batch.runs).toHaveLength(1);
  });
});

describe("runs.poll", () => {
  test("resolves with the run once its status is final", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    const { id } = await client.trigger(sendEmail, { to: "a" });
    setTimeout(() => engine.setStatus(id, "EXECUTING"), 20);
    setTimeout(() => engine.setStatus(id, "COMPLETED_WITH_ERRORS"), 60);

    const run = await client.runs.poll(id, { intervalMs: 10, timeoutMs: 2_000 });
    expect(run.status).toBe("COMPLETED_WITH_ERRORS");
    expect(engine.routeCalls("retrieve").length).toBeGreaterThan(2);
  });

  test("times out with the last status seen when the run never finishes", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    const { id } = await client.trigger(sendEmail, { to: "a" });

    const startedAt = Date.now();
    const error = await client.runs.poll(id, { intervalMs: 20, timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunPollTimeoutError);
    expect(error).toMatchObject({ runId: id, lastStatus: "PENDING", timeoutMs: 150 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(150);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  test("end to end: trigger from the client, a worker runs it, poll returns the typed output", async () => {
    const engine = await fake.engine();
    const client = clientFor(engine);
    await fake.worker(engine, [sendEmail]);

    const handle = await client.trigger(sendEmail, { to: "d@example.com" });
    const run = await client.runs.poll(handle, { intervalMs: 10, timeoutMs: 5_000 });
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output?.delivered).toBe("d@example.com");
    expect(run.attemptCount).toBe(1);
    await waitFor(() => engine.routeCalls("complete").length === 1);
  });
});
