import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminToken, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_admin_pages");
});
afterAll(async () => {
  await f.close();
});

const admin = { key: adminToken };
const form = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) for (const item of typeof value === "string" ? [value] : value) body.append(name, item);
  return { body: body.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } };
};
const trigger = async (payload: unknown, options: Record<string, unknown> = {}) =>
  (await f.request("POST", "/api/v1/tasks/hello/trigger", { body: { payload, options } })).json().id as string;

describe("admin authentication", () => {
  const routes: [method: "GET" | "POST", url: string][] = [
    ["GET", "/admin"],
    ["GET", "/admin/runs"],
    ["GET", "/admin/runs?status=PENDING"],
    ["GET", "/admin/runs/counts"],
    ["GET", "/admin/runs/run_x"],
    ["POST", "/admin/runs/run_x/cancel"],
    ["POST", "/admin/runs/run_x/replay"],
    ["GET", "/admin/run-queues"],
    ["POST", "/admin/run-queues/pause"],
    ["POST", "/admin/run-queues/resume"],
    ["POST", "/admin/run-queues/limit"],
    ["POST", "/admin/run-queues/limit/declared"],
    ["POST", "/admin/run-queues/redrive"],
    ["GET", "/admin/bulk-actions"],
    ["POST", "/admin/bulk-actions"],
    ["GET", "/admin/bulk-actions/bulk_x"],
    ["GET", "/admin/bulk-actions/bulk_x/progress"],
  ];

  test.each(routes)("%s %s answers 401 without admin credentials, with an API key, or a wrong token", async (method, url) => {
    const before = await f.db.prisma.bulkAction.count();
    const body = method === "POST" ? form({ type: "CANCEL", environmentId: "e", queue: "q", runId: "r" }) : { headers: {} };
    const credentials: { key: string | null; headers?: Record<string, string> }[] = [
      { key: null },
      { key: f.apiKey },
      { key: null, headers: { authorization: `Basic ${Buffer.from(`x:${f.apiKey}`).toString("base64")}` } },
      { key: null, headers: { cookie: `runengine_admin=${f.apiKey}` } },
      { key: "wrong-token" },
    ];
    for (const { key, headers = {} } of credentials) {
      const response = await f.request(method, url, { key, ...("body" in body ? { body: body.body } : {}), headers: { ...body.headers, ...headers } });
      expect(response.statusCode).toBe(401);
      expect(response.headers["www-authenticate"]).toMatch(/^Basic /);
    }
    expect(await f.db.prisma.bulkAction.count()).toBe(before);
  });

  test("the login form sets an httpOnly cookie for the admin token only", async () => {
    const refused = await f.request("POST", "/admin/login", { key: null, ...form({ token: f.apiKey }) });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers["set-cookie"]).toBeUndefined();
    const accepted = await f.request("POST", "/admin/login", { key: null, ...form({ token: adminToken, next: "https://evil.example/" }) });
    expect(accepted.statusCode).toBe(303);
    expect(accepted.headers.location).toBe("/admin/runs");
    const cookie = String(accepted.headers["set-cookie"]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await f.request("GET", "/admin/runs", { key: null, headers: { cookie: cookie.split(";")[0]! } });
    expect(page.statusCode).toBe(200);
  });

  test("a form post from another site is refused even with credentials", async () => {
    const response = await f.request("POST", "/admin/bulk-actions", { ...admin, ...form({ type: "CANCEL" }), headers: { ...form({}).headers, origin: "https://evil.example" } });
    expect(response.statusCode).toBe(403);
  });

  test("each page links to Bull Board, and Bull Board links back", async () => {
    for (const url of ["/admin/runs", "/admin/run-queues", "/admin/bulk-actions"]) {
      expect((await f.request("GET", url, admin)).body).toContain('href="/admin/queues"');
    }
    const board = await f.request("GET", "/admin/queues", admin);
    expect(board.body).toContain("/admin/runs");
    expect(board.body).toContain("/admin/run-queues");
  });

  test("assets are served by the api itself", async () => {
    const css = await f.request("GET", "/admin/assets/admin.css", { key: null });
    expect(css.statusCode).toBe(200);
    expect(css.headers["content-type"]).toMatch(/text\/css/);
    expect((await f.request("GET", "/admin/assets/admin.js", { key: null })).headers["content-type"]).toMatch(/javascript/);
    expect((await f.request("GET", "/admin/assets/..%2Fserver.ts", { key: null })).statusCode).toBe(404);
  });
});

describe("runs pages", () => {
  test("the runs page filters by status and escapes what users wrote", async () => {
    const hostile = await trigger({ text: "<script>alert(1)</script>" }, { tags: ["<b>tag</b>"] });
    const cancelled = await trigger({ n: 1 });
    await f.request("POST", `/api/v1/runs/${cancelled}/cancel`);

    const all = await f.request("GET", "/admin/runs", admin);
    expect(all.statusCode).toBe(200);
    expect(all.body).toContain(`data-run-id="${hostile}"`);
    expect(all.body).not.toContain("<b>tag</b>");
    expect(all.body).toContain("&lt;b&gt;tag&lt;/b&gt;");

    const onlyCancelled = await f.request("GET", "/admin/runs?status=CANCELED", admin);
    expect(onlyCancelled.body).toContain(`data-run-id="${cancelled}"`);
    expect(onlyCancelled.body).not.toContain(`data-run-id="${hostile}"`);
    const counts = await f.request("GET", "/admin/runs/counts?status=CANCELED", admin);
    expect(counts.json().counts).toMatchObject({ CANCELED: 1, PENDING: expect.any(Number) });

    const detail = await f.request("GET", `/admin/runs/${hostile}`, admin);
    expect(detail.statusCode).toBe(200);
    expect(detail.body).not.toContain("<script>alert(1)</script>");
    expect(detail.body).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(detail.body).toContain("Run was triggered and queued");
    expect(detail.body).toContain("Why isn't it running?");
    expect(detail.body).toContain('data-blocker="none"');
    expect((await f.request("GET", "/admin/runs/run_missing", admin)).statusCode).toBe(404);
  });

  test("a delayed run's page says until when it is delayed", async () => {
    const id = await trigger({ d: 1 }, { delay: "1h" });
    const { delayUntil } = await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
    const detail = await f.request("GET", `/admin/runs/${id}`, admin);
    expect(detail.body).toContain('data-blocker="notQueued"');
    expect(detail.body).toContain(`Delayed: it is queued at ${delayUntil!.toISOString().replace("T", " ").replace("Z", "")} UTC.`);
  });

  test("cancel and replay from a run's page", async () => {
    const id = await trigger({ n: 2 });
    const cancel = await f.request("POST", `/admin/runs/${id}/cancel`, { ...admin, ...form({}) });
    expect(cancel.statusCode).toBe(303);
    expect((await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } })).status).toBe("CANCELED");
    const replay = await f.request("POST", `/admin/runs/${id}/replay`, { ...admin, ...form({}) });
    expect(replay.statusCode).toBe(303);
    const replayId = String(replay.headers.location).split("/").at(-1)!;
    expect(await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: replayId } })).toMatchObject({ replayedFromRunId: id, status: "PENDING" });
  });

  test("a bulk action is created from the runs filter and reports its progress", async () => {
    const ids = [await trigger({ b: 1 }, { tags: ["bulk"] }), await trigger({ b: 2 }, { tags: ["bulk"] })];
    const created = await f.request("POST", "/admin/bulk-actions", { ...admin, ...form({ type: "CANCEL", tag: "bulk", status: ["PENDING"] }) });
    expect(created.statusCode).toBe(303);
    const progressUrl = `${created.headers.location}/progress`;
    expect((await f.request("GET", String(created.headers.location), admin)).body).toContain("cancel of");
    const progress = (await f.request("GET", progressUrl, admin)).json();
    expect(progress).toMatchObject({ type: "CANCEL", total: 2 });
    const bad = await f.request("POST", "/admin/bulk-actions", { ...admin, ...form({ type: "DELETE" }) });
    expect(bad.statusCode).toBe(400);
    expect(await f.db.prisma.taskRun.count({ where: { id: { in: ids } } })).toBe(2);
  });
});

describe("run queues page", () => {
  test("shows each queue and applies pause, resume and limits from its forms", async () => {
    const envId = f.environment.id;
    const page = await f.request("GET", "/admin/run-queues", admin);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-queue="hello"');
    expect((await f.request("POST", "/admin/run-queues/pause", { ...admin, ...form({ environmentId: envId, queue: "hello" }) })).statusCode).toBe(303);
    expect((await f.db.prisma.taskQueue.findFirstOrThrow({ where: { environmentId: envId, name: "hello" } })).paused).toBe(true);
    expect((await f.request("GET", "/admin/run-queues", admin)).body).toContain(">Resume<");
    await f.request("POST", "/admin/run-queues/resume", { ...admin, ...form({ environmentId: envId, queue: "hello" }) });
    await f.request("POST", "/admin/run-queues/limit", { ...admin, ...form({ environmentId: envId, queue: "hello", limit: "4" }) });
    expect(await f.db.prisma.taskQueue.findFirstOrThrow({ where: { environmentId: envId, name: "hello" } })).toMatchObject({ paused: false, concurrencyLimit: 4 });
    await f.request("POST", "/admin/run-queues/limit", { ...admin, ...form({ environmentId: envId, queue: "hello", limit: "" }) });
    expect((await f.db.prisma.taskQueue.findFirstOrThrow({ where: { environmentId: envId, name: "hello" } })).concurrencyLimit).toBeNull();
    const bad = await f.request("POST", "/admin/run-queues/limit", { ...admin, ...form({ environmentId: envId, queue: "hello", limit: "-3" }) });
    expect(bad.statusCode).toBe(400);

    // an operator's limit is marked as such, and "Use declared" goes back to the task code's
    expect((await f.request("GET", "/admin/run-queues", admin)).body).toContain(">Use declared<");
    await f.request("POST", "/admin/run-queues/limit/declared", { ...admin, ...form({ environmentId: envId, queue: "hello" }) });
    const restored = await f.db.prisma.taskQueue.findFirstOrThrow({ where: { environmentId: envId, name: "hello" } });
    expect(restored).toMatchObject({ concurrencyLimit: restored.declaredConcurrencyLimit, limitOverriddenAt: null });
    expect((await f.request("GET", "/admin/run-queues", admin)).body).not.toContain(">Use declared<");
  });
});

describe("replay (API)", () => {
  test("replays a run of the caller's environment only", async () => {
    const id = await trigger({ r: 1 }, { tags: ["replay-me"], idempotencyKey: "once" });
    const response = await f.request("POST", `/api/v1/runs/${id}/replay`);
    expect(response.statusCode).toBe(201);
    const replay = (await f.request("GET", `/api/v1/runs/${response.json().id}`)).json();
    expect(replay).toMatchObject({ taskId: "hello", payload: { r: 1 }, tags: ["replay-me"], idempotencyKey: null, replayedFromRunId: id });
    expect((await f.request("POST", `/api/v1/runs/${id}/replay`, { key: f.other.apiKey })).statusCode).toBe(404);
  });
});
