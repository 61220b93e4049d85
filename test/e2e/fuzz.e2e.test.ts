import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine } from "./engineFixture.ts";

/**
 * Hostile input at scale: generated malformed requests across every route of the api, each of
 * which must get a 4xx with an error body (never a 5xx) and leave the database as it was; and one
 * environment's key never reads or changes another environment's runs, tokens or schedules.
 */
const requestCount = 1_000;

interface Owned {
  apiKey: string;
  runId: string;
  batchId: string;
  tokenId: string | undefined;
  scheduleId: string | undefined;
}

let e: E2EEngine;
let a: Owned;
let b: Owned;

function call(method: string, path: string, options: { apiKey?: string | null; body?: unknown; rawBody?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  if (options.body !== undefined || options.rawBody !== undefined) headers["content-type"] = "application/json";
  return fetch(`${e.engine.apiUrl}${path}`, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
}

async function json<T>(res: Response, expected: number): Promise<T> {
  const text = await res.text();
  if (res.status !== expected) throw new Error(`expected ${expected}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A run, a batch, a token and a schedule of one environment, made through its own key. */
async function populate(apiKey: string): Promise<Owned> {
  const manifest = { id: "echo", queue: { name: "task/echo" }, retry: { maxAttempts: 1, factor: 2, minTimeoutInMs: 0, maxTimeoutInMs: 0, randomize: false } };
  await json(await call("POST", "/api/v1/worker/register", { apiKey, body: { version: "fuzz", name: "fuzz", concurrency: 1, tasks: [manifest] } }), 200);
  const { id: runId } = await json<{ id: string }>(await call("POST", "/api/v1/tasks/echo/trigger", { apiKey, body: { payload: { value: 1 } } }), 201);
  const { batchId } = await json<{ batchId: string }>(await call("POST", "/api/v1/tasks/echo/batch", { apiKey, body: { items: [{ payload: { value: 2 } }] } }), 201);
  const token = await call("POST", "/api/v1/waitpoints/tokens", { apiKey, body: {} });
  const schedule = await call("POST", "/api/v1/schedules", { apiKey, body: { taskId: "echo", cron: "0 0 1 1 *" } });
  return {
    apiKey,
    runId,
    batchId,
    tokenId: token.ok ? ((await token.json()) as { id: string }).id : undefined,
    scheduleId: schedule.ok ? ((await schedule.json()) as { id: string }).id : undefined,
  };
}

/** Row count and a checksum of every table, so any change anywhere shows. */
async function databaseFingerprint(): Promise<Record<string, string>> {
  const tables = await e.db.prisma.$queryRaw<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`;
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const quoted = `"${name.replaceAll('"', '""')}"`;
    const [row] = await e.db.prisma.$queryRawUnsafe<{ count: bigint; sum: string | null }[]>(
      `SELECT count(*) AS count, md5(string_agg(t::text, '|' ORDER BY t::text)) AS sum FROM ${quoted} t`,
    );
    out[name] = `${row?.count ?? 0}:${row?.sum ?? ""}`;
  }
  return out;
}

beforeAll(async () => {
  e = await E2EEngine.start("e2e_fuzz");
  a = await populate(e.environment.apiKey);
  const other = await e.createEnvironment("other");
  b = await populate(other.apiKey);
});
afterAll(async () => {
  await e?.close();
});

/** Every route of the api, with its path parameters. */
const routes: { method: string; path: string; admin?: boolean }[] = [
  { method: "POST", path: "/api/v1/environments", admin: true },
  { method: "POST", path: "/api/v1/admin/reconcile", admin: true },
  { method: "POST", path: "/api/v1/tasks/:taskId/trigger" },
  { method: "POST", path: "/api/v1/tasks/:taskId/batch" },
  { method: "GET", path: "/api/v1/batches/:batchId" },
  { method: "GET", path: "/api/v1/runs" },
  { method: "GET", path: "/api/v1/runs/:runId" },
  { method: "GET", path: "/api/v1/runs/:runId/history" },
  { method: "POST", path: "/api/v1/runs/:runId/cancel" },
  { method: "POST", path: "/api/v1/runs/:runId/reschedule" },
  { method: "POST", path: "/api/v1/runs/:runId/replay" },
  { method: "POST", path: "/api/v1/waitpoints/tokens" },
  { method: "GET", path: "/api/v1/waitpoints/tokens/:tokenId" },
  { method: "POST", path: "/api/v1/waitpoints/tokens/:tokenId/complete" },
  { method: "POST", path: "/api/v1/schedules" },
  { method: "GET", path: "/api/v1/schedules" },
  { method: "GET", path: "/api/v1/schedules/:scheduleId" },
  { method: "PUT", path: "/api/v1/schedules/:scheduleId" },
  { method: "DELETE", path: "/api/v1/schedules/:scheduleId" },
  { method: "POST", path: "/api/v1/schedules/:scheduleId/activate" },
  { method: "POST", path: "/api/v1/schedules/:scheduleId/deactivate" },
  { method: "POST", path: "/api/v1/worker/register" },
  { method: "POST", path: "/api/v1/worker/dequeue" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/start" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/heartbeat" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/complete" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/wait" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/wait/status" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/checkpoint" },
  { method: "POST", path: "/api/v1/worker/runs/:runId/resume" },
  { method: "POST", path: "/api/v1/worker/deregister" },
];

/** Ids that are never the caller's own: garbage, or what the other environment owns. */
const foreignId = (owner: Owned) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.constantFrom("..", "%2e%2e", "null", "0", "-1", "run_", "a".repeat(300), "💥", "' OR 1=1 --"),
    fc.constantFrom(...[owner.runId, owner.batchId, owner.tokenId, owner.scheduleId].filter((id): id is string => id !== undefined)),
  );

/** A body that no route accepts: not an object, not JSON at all, or an object of wrong-typed fields. */
const malformedBody = fc.oneof(
  fc.record({ raw: fc.constantFrom("{", "nul", "[1,", '{"payload":', "\u0000", "{}}") }),
  fc.record({ body: fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.array(fc.anything(), { maxLength: 3 }), fc.constant(null)) }),
  fc.record({
    body: fc.record({
      payload: fc.anything(),
      options: fc.oneof(fc.string(), fc.integer(), fc.record({ priority: fc.oneof(fc.constant(-1), fc.string()), tags: fc.integer() })),
      items: fc.oneof(fc.constant([]), fc.string(), fc.integer()),
      taskId: fc.oneof(fc.integer(), fc.constant("")),
      cron: fc.oneof(fc.integer(), fc.constant("every day")),
      workerId: fc.oneof(fc.integer(), fc.constant("")),
      snapshotId: fc.integer(),
      version: fc.integer(),
      tasks: fc.string(),
      delay: fc.oneof(fc.constant("soon"), fc.integer({ max: -1 })),
      name: fc.oneof(fc.integer(), fc.constant("")),
      timeout: fc.constant("never"),
      data: fc.anything(),
      limit: fc.constant(-5),
    }),
  }),
);

type Auth = "none" | "garbage" | "own" | "other";

/**
 * One malformed request: every request has at least one thing wrong that the api must refuse
 * before changing anything (no or a wrong key, an id the key does not own, or a malformed body).
 */
const malformedRequest = fc
  .record({
    route: fc.constantFrom(...routes),
    // Mostly valid keys, so most requests reach the routes' own checks rather than the auth hook.
    auth: fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom<Auth>("none", "garbage") },
      { weight: 4, arbitrary: fc.constantFrom<Auth>("own", "other") },
    ),
    body: malformedBody,
    // Wrong for both list routes (runs and schedules), whose other parameters are optional.
    query: fc.constantFrom("?limit=-1", "?limit=0", "?limit=abc", "?limit=100000", "?limit=1.5"),
  })
  .chain((base) =>
    fc.record({
      base: fc.constant(base),
      // The environment whose key is used never owns the ids in the path.
      id: foreignId(base.auth === "other" ? a : b),
      taskId: fc.oneof(fc.string({ maxLength: 30 }).filter((s) => s !== "echo"), fc.constant("echo")),
    }),
  )
  .map(({ base, id, taskId }) => {
    const hasId = base.route.path.includes(":") && !base.route.path.includes(":taskId");
    const path = base.route.path.replace(/:taskId/, encodeURIComponent(taskId) || "x").replace(/:(runId|batchId|tokenId|scheduleId)/, encodeURIComponent(id) || "x");
    const apiKey = { none: null, garbage: "re_not-a-real-key", own: a.apiKey, other: b.apiKey }[base.auth];
    // A GET or an id route with a foreign id is wrong already; everything else gets a malformed body.
    const body: { raw: string } | { body: unknown } | Record<string, never> = base.route.method === "GET" ? {} : base.body;
    const query = base.route.method === "GET" && !hasId ? base.query : "";
    return { method: base.route.method, path: `${path}${query}`, apiKey, body, admin: base.route.admin ?? false };
  });

describe(`${requestCount} generated malformed requests across every route`, () => {
  test("each gets a 4xx with an error code, never a 5xx, and the database does not change", { timeout: 600_000 }, async () => {
    const before = await databaseFingerprint();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(malformedRequest, async (request) => {
        const res = await call(request.method, request.path, {
          apiKey: request.apiKey,
          ...("raw" in request.body ? { rawBody: request.body.raw as string } : "body" in request.body ? { body: request.body.body } : {}),
        });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const text = await res.text();
        expect(res.status, `${request.method} ${request.path}: ${text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${request.method} ${request.path}: ${text}`).toBeLessThan(500);
        expect((JSON.parse(text) as { error?: { code?: string } }).error?.code, `${request.method} ${request.path}: ${text}`).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: requestCount, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
    console.info(`fuzz statuses: ${[...statuses].sort().map(([status, n]) => `${status}×${n}`).join(", ")}`);
    expect(await databaseFingerprint()).toEqual(before);
  });
});

describe("one environment's key against another's resources", () => {
  test("cannot read or change its runs, batches, tokens or schedules, and lists show none of them", async () => {
    const before = await databaseFingerprint();
    const attempts: [string, string, unknown?][] = [
      ["GET", `/api/v1/runs/${a.runId}`],
      ["GET", `/api/v1/runs/${a.runId}/history`],
      ["POST", `/api/v1/runs/${a.runId}/cancel`],
      ["POST", `/api/v1/runs/${a.runId}/reschedule`, { delay: "1h" }],
      ["POST", `/api/v1/runs/${a.runId}/replay`],
      ["GET", `/api/v1/batches/${a.batchId}`],
      ["POST", `/api/v1/worker/runs/${a.runId}/heartbeat`, { workerId: "w", snapshotId: "s" }],
      ...(a.tokenId
        ? ([
            ["GET", `/api/v1/waitpoints/tokens/${a.tokenId}`],
            ["POST", `/api/v1/waitpoints/tokens/${a.tokenId}/complete`, { data: { stolen: true } }],
          ] as [string, string, unknown?][])
        : []),
      ...(a.scheduleId
        ? ([
            ["GET", `/api/v1/schedules/${a.scheduleId}`],
            ["PUT", `/api/v1/schedules/${a.scheduleId}`, { taskId: "echo", cron: "* * * * *" }],
            ["POST", `/api/v1/schedules/${a.scheduleId}/deactivate`],
            ["DELETE", `/api/v1/schedules/${a.scheduleId}`],
          ] as [string, string, unknown?][])
        : []),
    ];
    for (const [method, path, body] of attempts) {
      const res = await call(method, path, { apiKey: b.apiKey, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const runs = await json<{ data?: { id: string }[]; runs?: { id: string }[] }>(await call("GET", "/api/v1/runs", { apiKey: b.apiKey }), 200);
    const listed = (runs.data ?? runs.runs ?? []).map((run) => run.id);
    expect(listed).not.toContain(a.runId);
    expect(listed).toContain(b.runId);
    const schedules = await call("GET", "/api/v1/schedules", { apiKey: b.apiKey });
    if (schedules.ok && a.scheduleId) expect(await schedules.text()).not.toContain(a.scheduleId);
    expect(await databaseFingerprint()).toEqual(before);
  });
});
