import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startApi, type ApiFixture } from "../../tests/apiFixture.ts";

// Small limits, so oversized payloads and bodies are cheap to build.
const maxPayloadBytes = 1_000;
const bodyLimitBytes = 4_000;
const batchBodyLimitBytes = 8_000;

let f: ApiFixture;
let existingRunId: string;
beforeAll(async () => {
  f = await startApi("api_bad_input", { settings: { maxPayloadBytes }, bodyLimitBytes, batchBodyLimitBytes });
  existingRunId = (await f.request("POST", "/api/v1/tasks/hello/trigger", { body: { payload: 1 } })).json().id;
});
afterAll(async () => {
  await f.close();
});

const bytes = (n: number) => "x".repeat(n);

interface Case {
  name: string;
  method?: "GET" | "POST";
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  key?: string | null;
  status: number;
  code: string;
  field?: string;
}

const trigger = "/api/v1/tasks/hello/trigger";
const batch = "/api/v1/tasks/hello/batch";

const cases: Case[] = [
  { name: "payload missing from a trigger body that is not an object", url: trigger, body: [1, 2], status: 400, code: "VALIDATION" },
  { name: "priority of the wrong type", url: trigger, body: { payload: 1, options: { priority: "high" } }, status: 400, code: "VALIDATION", field: "options.priority" },
  { name: "tags not a list", url: trigger, body: { payload: 1, options: { tags: "x" } }, status: 400, code: "VALIDATION", field: "options.tags" },
  { name: "an unreadable ttl", url: trigger, body: { payload: 1, options: { ttl: "soon" } }, status: 400, code: "VALIDATION", field: "options.ttl" },
  { name: "maxAttempts of zero", url: trigger, body: { payload: 1, options: { maxAttempts: 0 } }, status: 400, code: "VALIDATION", field: "options.maxAttempts" },
  { name: "a task id with a space", url: "/api/v1/tasks/bad%20task/trigger", body: { payload: 1 }, status: 400, code: "VALIDATION", field: "taskId" },
  { name: "an unknown task", url: "/api/v1/tasks/no-such-task/trigger", body: { payload: 1 }, status: 404, code: "NOT_FOUND" },
  { name: "a payload over MAX_PAYLOAD_BYTES inside the body limit", url: trigger, body: { payload: bytes(2_000) }, status: 400, code: "VALIDATION", field: "payload" },
  { name: "a body over the body limit", url: trigger, body: { payload: bytes(10_000) }, status: 413, code: "PAYLOAD_TOO_LARGE" },
  {
    name: "malformed JSON",
    url: trigger,
    body: '{"payload": ',
    headers: { "content-type": "application/json" },
    status: 400,
    code: "INVALID_JSON",
  },
  { name: "no Authorization header", url: trigger, body: { payload: 1 }, key: null, status: 401, code: "UNAUTHORIZED" },
  { name: "a wrong key", url: trigger, body: { payload: 1 }, key: "re_not-a-real-key", status: 401, code: "UNAUTHORIZED" },
  { name: "a key of the wrong shape", url: trigger, body: { payload: 1 }, key: "hunter2", status: 401, code: "UNAUTHORIZED" },
  { name: "the admin token as an environment key", url: trigger, body: { payload: 1 }, key: "test-admin-token-0123456789", status: 401, code: "UNAUTHORIZED" },
  // batches: all or nothing, the field names the item
  { name: "a batch with no items", url: batch, body: { items: [] }, status: 400, code: "VALIDATION", field: "items" },
  {
    name: "a batch whose item 3 has a bad option",
    url: batch,
    body: { items: [{ payload: 0 }, { payload: 1 }, { payload: 2 }, { payload: 3, options: { priority: -1 } }] },
    status: 400,
    code: "VALIDATION",
    field: "items.3.options.priority",
  },
  {
    name: "a batch whose item 1 is too large",
    url: batch,
    body: { items: [{ payload: 0 }, { payload: bytes(1_500) }, { payload: 2 }] },
    status: 400,
    code: "VALIDATION",
    field: "items.1.payload",
  },
  { name: "a batch over the batch body limit", url: batch, body: { items: Array.from({ length: 9 }, () => ({ payload: bytes(900) })) }, status: 413, code: "PAYLOAD_TOO_LARGE" },
  { name: "a batch of an unknown task", url: "/api/v1/tasks/no-such-task/batch", body: { items: [{ payload: 1 }] }, status: 404, code: "NOT_FOUND" },
  // list queries
  { name: "an unknown status filter", method: "GET", url: "/api/v1/runs?status=DONE", status: 400, code: "VALIDATION", field: "status" },
  { name: "a limit of zero", method: "GET", url: "/api/v1/runs?limit=0", status: 400, code: "VALIDATION", field: "limit" },
  { name: "a limit over 100", method: "GET", url: "/api/v1/runs?limit=101", status: 400, code: "VALIDATION", field: "limit" },
  { name: "a limit that is not a number", method: "GET", url: "/api/v1/runs?limit=ten", status: 400, code: "VALIDATION", field: "limit" },
  { name: "a cursor that is no run", method: "GET", url: "/api/v1/runs?cursor=run_nope", status: 400, code: "VALIDATION", field: "cursor" },
  { name: "an unknown run", method: "GET", url: "/api/v1/runs/run_nope", status: 404, code: "NOT_FOUND" },
  { name: "an unknown route", method: "GET", url: "/api/v1/nothing-here", status: 404, code: "NOT_FOUND" },
];

describe("bad input gets a 4xx naming the field, and changes nothing", () => {
  test.each(cases)("$name → $status $code $field", async ({ method = "POST", url, body, headers, key, status, code, field }) => {
    const runsBefore = await f.runCount();
    const batchesBefore = await f.db.prisma.batch.count();
    const response = await f.app.inject({
      method,
      url,
      headers: { ...(key === null ? {} : { authorization: `Bearer ${key ?? f.apiKey}` }), ...headers },
      ...(body === undefined ? {} : { payload: body as string }),
    });
    expect(response.statusCode).toBe(status);
    const { error } = response.json();
    expect(error).toMatchObject({ code, message: expect.any(String) });
    if (field) expect(error.field).toBe(field);
    else expect(error).not.toHaveProperty("field");
    expect(await f.runCount()).toBe(runsBefore);
    expect(await f.db.prisma.batch.count()).toBe(batchesBefore);
  });
});

describe("one environment's key cannot reach another environment's runs", () => {
  test.each([
    ["GET", (id: string) => `/api/v1/runs/${id}`],
    ["GET", (id: string) => `/api/v1/runs/${id}/history`],
    ["POST", (id: string) => `/api/v1/runs/${id}/cancel`],
  ] as const)("%s %s answers exactly as for a run that does not exist", async (method, url) => {
    const foreign = await f.request(method, url(existingRunId), { key: f.other.apiKey });
    const missing = await f.request(method, url("run_missing"), { key: f.other.apiKey });
    expect(foreign.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(foreign.json().error.message.replace(existingRunId, "<id>")).toBe(missing.json().error.message.replace("run_missing", "<id>"));
    expect(foreign.json().error.code).toBe("NOT_FOUND");

    const run = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: existingRunId } });
    expect(run.status).toBe("PENDING");
    expect(await f.db.prisma.executionSnapshot.count({ where: { runId: existingRunId } })).toBe(1);
  });

  test("a cursor from another environment is refused", async () => {
    const response = await f.request("GET", `/api/v1/runs?cursor=${existingRunId}`, { key: f.other.apiKey });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.field).toBe("cursor");
  });
});

test("a batch may be larger than one trigger's body limit, up to the batch body limit", async () => {
  const items = Array.from({ length: 5 }, () => ({ payload: bytes(900) }));
  expect(JSON.stringify({ items }).length).toBeGreaterThan(bodyLimitBytes);
  const response = await f.request("POST", "/api/v1/tasks/hello/batch", { body: { items } });
  expect(response.statusCode).toBe(201);
  expect(response.json().runs).toHaveLength(5);
});

test("a bodiless POST with a JSON content type is accepted", async () => {
  const id = (await f.request("POST", trigger, { body: { payload: 1 } })).json().id;
  const response = await f.request("POST", `/api/v1/runs/${id}/cancel`, { headers: { "content-type": "application/json" } });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toEqual({ id, status: "CANCELED" });
});
