import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_schedules");
});
afterAll(async () => {
  await f.close();
});

const create = async (body: Record<string, unknown>) => {
  const response = await f.request("POST", "/api/v1/schedules", { body: { taskId: "hello", cron: "0 * * * *", ...body } });
  expect(response.statusCode).toBe(201);
  return response.json();
};

describe("/api/v1/schedules", () => {
  test("create → get → list → update → deactivate → activate → delete", async () => {
    const created = await create({ timezone: "Europe/Paris", externalId: "user-1" });
    expect(created).toEqual({
      id: expect.any(String),
      type: "IMPERATIVE",
      taskId: "hello",
      cron: "0 * * * *",
      timezone: "Europe/Paris",
      externalId: "user-1",
      deduplicationKey: expect.any(String),
      active: true,
      lastTickAt: null,
      nextTickAt: expect.any(String),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(new Date(created.nextTickAt).getUTCMinutes()).toBe(0);

    const read = await f.request("GET", `/api/v1/schedules/${created.id}`);
    expect(read.json()).toEqual(created);
    const list = await f.request("GET", "/api/v1/schedules?taskId=hello&limit=100");
    expect(list.json().data.map((s: { id: string }) => s.id)).toContain(created.id);

    const updated = await f.request("PUT", `/api/v1/schedules/${created.id}`, { body: { taskId: "hello", cron: "*/5 * * * * *" } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toMatchObject({ id: created.id, cron: "*/5 * * * * *", timezone: "UTC", externalId: null });
    expect(new Date(updated.json().nextTickAt).getTime()).toBeLessThanOrEqual(Date.now() + 5_000);

    const paused = await f.request("POST", `/api/v1/schedules/${created.id}/deactivate`);
    expect(paused.json()).toMatchObject({ active: false, nextTickAt: null });
    const resumed = await f.request("POST", `/api/v1/schedules/${created.id}/activate`);
    expect(resumed.json()).toMatchObject({ active: true, nextTickAt: expect.any(String) });

    const deleted = await f.request("DELETE", `/api/v1/schedules/${created.id}`);
    expect(deleted.json()).toEqual({ id: created.id, deleted: true });
    expect((await f.request("GET", `/api/v1/schedules/${created.id}`)).statusCode).toBe(404);
  });

  test("a repeated deduplicationKey updates the schedule it names", async () => {
    const first = await create({ deduplicationKey: "per-user-42" });
    const second = await create({ deduplicationKey: "per-user-42", cron: "15 8 * * 1" });
    expect(second).toMatchObject({ id: first.id, cron: "15 8 * * 1", deduplicationKey: "per-user-42" });
  });

  test("bad input is a 400 naming the field; nothing is stored", async () => {
    const before = await f.db.prisma.schedule.count();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ taskId: "hello", cron: "* * * *" }, "cron"],
      [{ taskId: "hello", cron: "99 * * * *" }, "cron"],
      [{ taskId: "hello", cron: "0 * * * *", timezone: "Moon/Base" }, "timezone"],
      [{ taskId: "no-such-task", cron: "0 * * * *" }, "taskId"],
      [{ cron: "0 * * * *" }, "taskId"],
      [{ taskId: "hello", cron: "0 * * * *", deduplicationKey: "" }, "deduplicationKey"],
    ];
    for (const [body, field] of cases) {
      const response = await f.request("POST", "/api/v1/schedules", { body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().error).toMatchObject({ code: "VALIDATION", field });
    }
    const existing = await create({});
    const badUpdate = await f.request("PUT", `/api/v1/schedules/${existing.id}`, { body: { taskId: "hello", cron: "0 0 * * *", timezone: "Nowhere" } });
    expect(badUpdate.json().error).toMatchObject({ code: "VALIDATION", field: "timezone" });
    expect((await f.request("GET", "/api/v1/schedules?limit=0")).json().error).toMatchObject({ field: "limit" });
    expect(await f.db.prisma.schedule.count()).toBe(before + 1);
  });

  test("another environment's key gets 404 for every route, and its list does not show the schedule", async () => {
    const schedule = await create({});
    const key = f.other.apiKey;
    const attempts = [
      f.request("GET", `/api/v1/schedules/${schedule.id}`, { key }),
      f.request("PUT", `/api/v1/schedules/${schedule.id}`, { key, body: { taskId: "hello", cron: "* * * * *" } }),
      f.request("DELETE", `/api/v1/schedules/${schedule.id}`, { key }),
      f.request("POST", `/api/v1/schedules/${schedule.id}/activate`, { key }),
      f.request("POST", `/api/v1/schedules/${schedule.id}/deactivate`, { key }),
    ];
    for (const response of await Promise.all(attempts)) {
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe("NOT_FOUND");
    }
    const otherList = await f.request("GET", "/api/v1/schedules", { key });
    expect(otherList.json().data.map((s: { id: string }) => s.id)).not.toContain(schedule.id);
    expect((await f.request("GET", `/api/v1/schedules/${schedule.id}`)).json()).toMatchObject({ cron: "0 * * * *", active: true });
    expect((await f.request("GET", "/api/v1/schedules", { key: null })).statusCode).toBe(401);
  });

  test("a schedule declared in code cannot be changed or deleted over HTTP (409), only paused", async () => {
    await f.handle.engine.registerWorker(f.environment, {
      version: "v2",
      name: "declares-schedule",
      concurrency: 1,
      tasks: [{ id: "nightly", queue: { name: "nightly" }, retry: { maxAttempts: 1, factor: 2, minTimeoutInMs: 0, maxTimeoutInMs: 0, randomize: false }, schedule: { cron: "0 3 * * *", timezone: "UTC" } }],
    });
    const list = await f.request("GET", "/api/v1/schedules?taskId=nightly");
    const [declared] = list.json().data;
    expect(declared).toMatchObject({ type: "DECLARATIVE", cron: "0 3 * * *" });
    expect((await f.request("PUT", `/api/v1/schedules/${declared.id}`, { body: { taskId: "nightly", cron: "* * * * *" } })).statusCode).toBe(409);
    expect((await f.request("DELETE", `/api/v1/schedules/${declared.id}`)).statusCode).toBe(409);
    expect((await f.request("POST", `/api/v1/schedules/${declared.id}/deactivate`)).json()).toMatchObject({ active: false });
  });
});
