import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_runs");
});
afterAll(async () => {
  await f.close();
});

async function trigger(body: unknown = { payload: { n: 1 } }): Promise<string> {
  const response = await f.request("POST", "/api/v1/tasks/hello/trigger", { body });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

describe("a run over HTTP", () => {
  test("trigger → get shows every field of the run", async () => {
    const response = await f.request("POST", "/api/v1/tasks/hello/trigger", {
      body: { payload: { name: "Ada" }, options: { tags: ["t1"], metadata: { source: "test" }, priority: 5, concurrencyKey: "user-1" } },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ id: expect.any(String), isCached: false });
    const { id } = response.json();

    const run = await f.request("GET", `/api/v1/runs/${id}`);
    expect(run.statusCode).toBe(200);
    expect(run.json()).toEqual({
      id,
      taskId: "hello",
      status: "PENDING",
      attemptCount: 0,
      payload: { name: "Ada" },
      output: null,
      error: null,
      queue: "hello",
      concurrencyKey: "user-1",
      priority: 5,
      tags: ["t1"],
      metadata: { source: "test" },
      idempotencyKey: null,
      batchId: null,
      replayedFromRunId: null,
      delayUntil: null,
      ttl: null,
      expiresAt: null,
      createdAt: expect.any(String),
      startedAt: null,
      completedAt: null,
      updatedAt: expect.any(String),
    });
    expect(new Date(run.json().createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  test("a trigger without a payload (a task that takes no input) creates a run whose payload is null", async () => {
    const id = await trigger({});
    expect((await f.request("GET", `/api/v1/runs/${id}`)).json()).toMatchObject({ id, payload: null });
  });

  test("a second trigger with the same idempotency key answers 200 with the first run", async () => {
    const body = { payload: 1, options: { idempotencyKey: "order-42" } };
    const first = await f.request("POST", "/api/v1/tasks/hello/trigger", { body });
    const before = await f.runCount();
    const second = await f.request("POST", "/api/v1/tasks/hello/trigger", { body });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ id: first.json().id, isCached: true });
    expect(await f.runCount()).toBe(before);
  });

  test("a batch creates one run per item, in order, under one batch id", async () => {
    const response = await f.request("POST", "/api/v1/tasks/hello/batch", { body: { items: [{ payload: "a" }, { payload: "b" }, { payload: "c" }] } });
    expect(response.statusCode).toBe(201);
    const { batchId, runs } = response.json() as { batchId: string; runs: { id: string }[] };
    expect(runs).toHaveLength(3);
    const payloads = [];
    for (const { id } of runs) {
      const run = (await f.request("GET", `/api/v1/runs/${id}`)).json();
      expect(run.batchId).toBe(batchId);
      payloads.push(run.payload);
    }
    expect(payloads).toEqual(["a", "b", "c"]);
  });

  test("history lists the snapshots oldest first, and cancel adds the final one", async () => {
    const id = await trigger();
    const cancel = await f.request("POST", `/api/v1/runs/${id}/cancel`);
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toEqual({ id, status: "CANCELED" });

    const history = await f.request("GET", `/api/v1/runs/${id}/history`);
    expect(history.statusCode).toBe(200);
    const { snapshots } = history.json() as { snapshots: Record<string, unknown>[] };
    expect(snapshots.map((s) => `${s.executionStatus}/${s.runStatus}`)).toEqual(["QUEUED/PENDING", "FINISHED/CANCELED"]);
    expect(snapshots[0]).toEqual({
      id: expect.any(String),
      executionStatus: "QUEUED",
      runStatus: "PENDING",
      description: expect.any(String),
      attemptNumber: null,
      workerId: null,
      previousSnapshotId: null,
      createdAt: expect.any(String),
    });
    expect(snapshots[1]?.previousSnapshotId).toBe(snapshots[0]?.id);

    const run = (await f.request("GET", `/api/v1/runs/${id}`)).json();
    expect(run).toMatchObject({ status: "CANCELED", completedAt: expect.any(String) });
    // cancelling a final run changes nothing and says so
    expect((await f.request("POST", `/api/v1/runs/${id}/cancel`)).json()).toEqual({ id, status: "CANCELED" });
    expect((await f.request("GET", `/api/v1/runs/${id}/history`)).json().snapshots).toHaveLength(2);
  });

  test("reschedule moves a DELAYED run's due time; 409 for a run that is not DELAYED, 400 for a bad delay, 404 from another environment", async () => {
    const delayed = await trigger({ payload: 1, options: { delay: "1h", ttl: "10m" } });
    const created = (await f.request("GET", `/api/v1/runs/${delayed}`)).json();
    expect(created).toMatchObject({ status: "DELAYED", ttl: "10m", expiresAt: null, delayUntil: expect.any(String) });

    const at = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const moved = await f.request("POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: at } });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ id: delayed, status: "DELAYED", delayUntil: at });
    const history = (await f.request("GET", `/api/v1/runs/${delayed}/history`)).json().snapshots as { description: string }[];
    expect(history.map((s) => s.description)).toEqual([`Delayed until ${created.delayUntil}`, `Rescheduled to ${at}`]);

    const bad = await f.request("POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: "tomorrow" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: "VALIDATION", field: "delay" });
    const foreign = await f.request("POST", `/api/v1/runs/${delayed}/reschedule`, { body: { delay: "1m" }, key: f.other.apiKey });
    expect(foreign.statusCode).toBe(404);
    expect((await f.request("GET", `/api/v1/runs/${delayed}/history`)).json().snapshots).toHaveLength(2);

    const queued = await trigger();
    const conflict = await f.request("POST", `/api/v1/runs/${queued}/reschedule`, { body: { delay: "1m" } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error).toMatchObject({ code: "CONFLICT", field: "status" });
    await f.request("POST", `/api/v1/runs/${delayed}/cancel`);
  });

  test("the list's cursor walks every run exactly once, newest first", async () => {
    const triggered = new Set<string>();
    for (let i = 0; i < 7; i++) triggered.add(await trigger({ payload: i }));
    const total = await f.runCount();
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/runs?limit=3${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await f.request("GET", url);
      expect(page.statusCode).toBe(200);
      const body = page.json() as { data: { id: string; createdAt: string }[]; nextCursor: string | null };
      expect(body.data.length).toBeLessThanOrEqual(3);
      seen.push(...body.data.map((run) => run.id));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(pages).toBe(Math.ceil(total / 3));
    for (const id of triggered) expect(seen).toContain(id);
    // the last runs triggered come first
    expect(seen.slice(0, 7).reverse()).toEqual([...triggered]);
  });

  test("the list filters by status and task, and defaults to 25 per page", async () => {
    const cancelled = await trigger();
    await f.request("POST", `/api/v1/runs/${cancelled}/cancel`);
    const byStatus = (await f.request("GET", "/api/v1/runs?status=CANCELED")).json() as { data: { id: string; status: string }[] };
    expect(byStatus.data.map((r) => r.id)).toContain(cancelled);
    expect(byStatus.data.every((r) => r.status === "CANCELED")).toBe(true);

    expect((await f.request("GET", "/api/v1/runs?taskId=nope")).json()).toEqual({ data: [], nextCursor: null });
    for (let i = 0; i < 20; i++) await trigger();
    const firstPage = (await f.request("GET", "/api/v1/runs?taskId=hello&status=")).json() as { data: unknown[]; nextCursor: string | null };
    expect(firstPage.data).toHaveLength(25);
    expect(firstPage.nextCursor).toEqual(expect.any(String));
  });

  test("an environment sees only its own runs", async () => {
    const id = await trigger();
    const others = (await f.request("GET", "/api/v1/runs?limit=100", { key: f.other.apiKey })).json() as { data: { id: string }[] };
    expect(others.data.map((r) => r.id)).not.toContain(id);
  });
});
