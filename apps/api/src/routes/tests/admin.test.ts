import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminToken, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
let noAdmin: ApiFixture;
beforeAll(async () => {
  [f, noAdmin] = await Promise.all([startApi("api_admin"), startApi("api_no_admin", { adminToken: undefined })]);
});
afterAll(async () => {
  await Promise.all([f.close(), noAdmin.close()]);
});

const basic = (password: string) => `Basic ${Buffer.from(`operator:${password}`).toString("base64")}`;

describe("creating environments (admin)", () => {
  test("the admin token creates an environment whose key works at once", async () => {
    const response = await f.request("POST", "/api/v1/environments", { key: adminToken, body: { name: "staging", concurrencyLimit: 5 } });
    expect(response.statusCode).toBe(201);
    const { id, apiKey } = response.json();
    expect(id).toEqual(expect.any(String));
    expect(apiKey).toMatch(/^re_/);
    expect(await f.db.prisma.runtimeEnvironment.findUniqueOrThrow({ where: { id } })).toMatchObject({ name: "staging", concurrencyLimit: 5 });
    // the new environment has no deployment yet, so its key authenticates and the task is unknown
    const trigger = await f.request("POST", "/api/v1/tasks/hello/trigger", { key: apiKey, body: { payload: 1 } });
    expect(trigger.statusCode).toBe(404);
  });

  test("a taken name is a 409 naming the field, and bad input a 400", async () => {
    const taken = await f.request("POST", "/api/v1/environments", { key: adminToken, body: { name: "test" } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toMatchObject({ code: "CONFLICT", field: "name" });
    const bad = await f.request("POST", "/api/v1/environments", { key: adminToken, body: { name: "x", concurrencyLimit: -1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: "VALIDATION", field: "concurrencyLimit" });
  });

  test.each([
    ["no credentials", null],
    ["an environment API key", "ENV_KEY"],
    ["a wrong token", "not-the-admin-token"],
  ])("%s → 401 and no environment", async (_name, key) => {
    const before = await f.db.prisma.runtimeEnvironment.count();
    const response = await f.request("POST", "/api/v1/environments", { key: key === "ENV_KEY" ? f.apiKey : key, body: { name: "sneaky" } });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe("UNAUTHORIZED");
    expect(await f.db.prisma.runtimeEnvironment.count()).toBe(before);
  });

  test("without ADMIN_TOKEN configured, admin routes refuse everyone", async () => {
    for (const key of [adminToken, "", noAdmin.apiKey]) {
      const response = await noAdmin.request("POST", "/api/v1/environments", { key, body: { name: "sneaky" } });
      expect(response.statusCode).toBe(401);
    }
    expect((await noAdmin.request("GET", "/admin/queues", { key: adminToken })).statusCode).toBe(401);
  });
});

describe("Bull Board", () => {
  test("serves its page and lists every engine queue with the admin token", async () => {
    const page = await f.request("GET", "/admin/queues", { key: adminToken });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);

    const queues = await f.request("GET", "/admin/queues/api/queues", { key: adminToken });
    expect(queues.statusCode).toBe(200);
    const names = (queues.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    const expected = f.handle.engine.resources.jobs.allQueues().map((q) => q.name).sort();
    expect(names).toEqual(expected);
    expect(names.length).toBeGreaterThan(0);
  });

  test("a browser gets a login prompt, and its Basic credentials or cookie let it in", async () => {
    const refused = await f.request("GET", "/admin/queues", { key: null });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers["www-authenticate"]).toMatch(/^Basic /);
    expect((await f.request("GET", "/admin/queues", { key: null, headers: { authorization: basic(adminToken) } })).statusCode).toBe(200);
    expect((await f.request("GET", "/admin/queues", { key: null, headers: { authorization: basic("wrong") } })).statusCode).toBe(401);
    expect((await f.request("GET", "/admin/queues", { key: null, headers: { cookie: `runengine_admin=${adminToken}` } })).statusCode).toBe(200);
  });

  test("an environment API key is refused", async () => {
    expect((await f.request("GET", "/admin/queues")).statusCode).toBe(401);
    expect((await f.request("GET", "/admin/queues/api/queues")).statusCode).toBe(401);
  });
});

describe("operations endpoints", () => {
  test("/healthz is 200 while Postgres and Redis answer", async () => {
    const response = await f.request("GET", "/healthz", { key: null });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true });
  });

  test("/metrics counts requests by route pattern and runs triggered", async () => {
    const { id } = (await f.request("POST", "/api/v1/tasks/hello/trigger", { body: { payload: 1 } })).json();
    await f.request("GET", `/api/v1/runs/${id}`);
    await f.request("GET", "/api/v1/runs/run_missing");
    const response = await f.request("GET", "/metrics", { key: null });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toMatch(/text\/plain/);
    const text = response.body;
    expect(text).toMatch(/^runengine_runs_triggered_total 1$/m);
    expect(text).toMatch(/^runengine_http_requests_total\{method="GET",route="\/api\/v1\/runs\/:id",status="200"\} 1$/m);
    expect(text).toMatch(/^runengine_http_requests_total\{method="GET",route="\/api\/v1\/runs\/:id",status="404"\} 1$/m);
    expect(text).toMatch(/^runengine_http_requests_total\{method="POST",route="\/api\/v1\/tasks\/:taskId\/trigger",status="201"\} 1$/m);
    expect(text).toMatch(/^runengine_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/tasks\/:taskId\/trigger"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).not.toContain(id);
  });
});
