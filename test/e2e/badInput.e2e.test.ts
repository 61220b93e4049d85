import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine } from "./engineFixture.ts";

/** Bad input over HTTP: each case gets a clear 4xx, and nothing in the database changes. */
let e: E2EEngine;
let otherRunId: string;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_bad_input", { MAX_PAYLOAD_BYTES: "2048" });
  await e.startWorker("worker-a");
  const other = await e.createEnvironment("other");
  const manifest = { id: "echo", queue: { name: "task/echo" }, retry: { maxAttempts: 1, factor: 2, minTimeoutInMs: 0, maxTimeoutInMs: 0, randomize: false } };
  const registered = await call("POST", "/api/v1/worker/register", { version: "v1", name: "other", concurrency: 1, tasks: [manifest] }, other.apiKey);
  expect(registered.status).toBe(200);
  const triggered = await call("POST", "/api/v1/tasks/echo/trigger", { payload: { value: 1 } }, other.apiKey);
  expect(triggered.status).toBe(201);
  otherRunId = ((await triggered.json()) as { id: string }).id;
});
afterAll(async () => {
  await e?.close();
});

function call(method: string, path: string, body?: unknown, apiKey: string | null = e.environment.apiKey) {
  return fetch(`${e.engine.apiUrl}${path}`, {
    method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function expectError(res: Response, status: number, code: string, field?: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string; field?: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (field) expect(body.error.field).toBe(field);
}

const counts = async () => ({
  runs: await e.db.prisma.taskRun.count(),
  snapshots: await e.db.prisma.executionSnapshot.count(),
});

describe("bad input changes nothing", () => {
  test.each([
    ["options of the wrong type", { payload: 1, options: "nope" }, 400, "VALIDATION", "options"],
    ["a negative priority", { payload: 1, options: { priority: -1 } }, 400, "VALIDATION", "options.priority"],
    ["tags that are not a list", { payload: 1, options: { tags: "a" } }, 400, "VALIDATION", "options.tags"],
    ["a ttl that is not a duration", { payload: 1, options: { ttl: "soon" } }, 400, "VALIDATION", "options.ttl"],
  ])("%s", async (_, body, status, code, field) => {
    const before = await counts();
    await expectError(await call("POST", "/api/v1/tasks/echo/trigger", body), status, code, field);
    expect(await counts()).toEqual(before);
  });

  test("an unknown task", async () => {
    const before = await counts();
    await expectError(await call("POST", "/api/v1/tasks/no-such-task/trigger", { payload: 1 }), 404, "NOT_FOUND");
    expect(await counts()).toEqual(before);
  });

  test("a payload over the configured limit", async () => {
    const before = await counts();
    const res = await call("POST", "/api/v1/tasks/echo/trigger", { payload: { blob: "x".repeat(5_000) } });
    expect([400, 413]).toContain(res.status);
    expect(await counts()).toEqual(before);
  });

  test("a missing or a wrong API key", async () => {
    const before = await counts();
    await expectError(await call("POST", "/api/v1/tasks/echo/trigger", { payload: 1 }, null), 401, "UNAUTHORIZED");
    await expectError(await call("POST", "/api/v1/tasks/echo/trigger", { payload: 1 }, "re_wrong"), 401, "UNAUTHORIZED");
    await expectError(await call("GET", `/api/v1/runs/${otherRunId}`, undefined, "re_wrong"), 401, "UNAUTHORIZED");
    expect(await counts()).toEqual(before);
  });

  test("another environment's run id: not found for read, history and cancel", async () => {
    const before = await counts();
    await expectError(await call("GET", `/api/v1/runs/${otherRunId}`), 404, "NOT_FOUND");
    await expectError(await call("GET", `/api/v1/runs/${otherRunId}/history`), 404, "NOT_FOUND");
    await expectError(await call("POST", `/api/v1/runs/${otherRunId}/cancel`), 404, "NOT_FOUND");
    expect(await counts()).toEqual(before);
    const listed = (await (await call("GET", "/api/v1/runs?limit=100")).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((r) => r.id)).not.toContain(otherRunId);
  });
});
