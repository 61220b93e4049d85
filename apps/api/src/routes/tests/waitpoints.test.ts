import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_waitpoints");
});
afterAll(async () => {
  await f.close();
});

const countTokens = () => f.db.prisma.waitpoint.count({ where: { type: "MANUAL" } });

describe("waitpoint tokens", () => {
  test("create, read and complete a token; a second completion changes nothing", async () => {
    const created = await f.request("POST", "/api/v1/waitpoints/tokens", { body: { timeout: "10m" } });
    expect(created.statusCode).toBe(201);
    const { id, status, timeoutAt } = created.json();
    expect(status).toBe("PENDING");
    expect(new Date(timeoutAt).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);

    const completed = await f.request("POST", `/api/v1/waitpoints/tokens/${id}/complete`, { body: { data: { approved: true } } });
    expect(completed.statusCode).toBe(200);
    expect(completed.json()).toMatchObject({ id, status: "COMPLETED", output: { approved: true }, isError: false });

    const again = await f.request("POST", `/api/v1/waitpoints/tokens/${id}/complete`, { body: { data: "second" } });
    expect(again.json()).toMatchObject({ output: { approved: true } });
    expect((await f.request("GET", `/api/v1/waitpoints/tokens/${id}`)).json()).toMatchObject({ id, status: "COMPLETED" });
  });

  test("a token completed without data completes with null output", async () => {
    const { id } = (await f.request("POST", "/api/v1/waitpoints/tokens", { body: {} })).json();
    const completed = await f.request("POST", `/api/v1/waitpoints/tokens/${id}/complete`, { body: {} });
    expect(completed.statusCode).toBe(200);
    expect(completed.json()).toMatchObject({ id, status: "COMPLETED", output: null, isError: false });
  });

  test("no body creates a token; a body that is not an object (JSON null, a number) is a 400 and creates nothing", async () => {
    expect((await f.request("POST", "/api/v1/waitpoints/tokens")).statusCode).toBe(201);
    const before = await countTokens();
    for (const raw of ["null", "3", '"x"']) {
      const res = await f.request("POST", "/api/v1/waitpoints/tokens", { body: raw, headers: { "content-type": "application/json" } });
      expect({ raw, status: res.statusCode }).toEqual({ raw, status: 400 });
    }
    expect(await countTokens()).toBe(before);
  });

  test("an idempotency key returns the first token (200, isCached)", async () => {
    const first = await f.request("POST", "/api/v1/waitpoints/tokens", { body: { idempotencyKey: "k-1" } });
    const second = await f.request("POST", "/api/v1/waitpoints/tokens", { body: { idempotencyKey: "k-1" } });
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ id: first.json().id, isCached: true });
  });

  test("another environment's key gets 404 for the token; bad input is a 400 naming the field", async () => {
    const { id } = (await f.request("POST", "/api/v1/waitpoints/tokens", { body: {} })).json();
    for (const [method, url] of [
      ["GET", `/api/v1/waitpoints/tokens/${id}`],
      ["POST", `/api/v1/waitpoints/tokens/${id}/complete`],
    ] as const) {
      const res = await f.request(method, url, { key: f.other.apiKey, body: method === "POST" ? { data: 1 } : undefined });
      expect(res.statusCode).toBe(404);
    }
    expect((await f.request("GET", `/api/v1/waitpoints/tokens/${id}`)).json().status).toBe("PENDING");
    const bad = await f.request("POST", "/api/v1/waitpoints/tokens", { body: { timeout: "soon" } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe("timeout");
  });
});
