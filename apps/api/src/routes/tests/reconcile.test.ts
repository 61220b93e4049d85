import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { adminToken, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_reconcile");
});
afterAll(async () => {
  await f.close();
});

describe("POST /api/v1/admin/reconcile", () => {
  test("rebuilds from Postgres and answers what it repaired", async () => {
    const runQueue = f.handle.engine.resources.runQueue;
    await runQueue.restoreInFlight({ runId: "run_ghost", orgId: f.environment.organizationId, envId: f.environment.id, queue: "hello", consumerId: "w" });
    const response = await f.request("POST", "/api/v1/admin/reconcile", { key: adminToken });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ rebuilt: true, repairs: { "unknown-run": 1 } });
    expect(await runQueue.stats({ envId: f.environment.id })).toMatchObject({ inFlight: 0 });
  });

  test("an environment's key may not run it", async () => {
    const response = await f.request("POST", "/api/v1/admin/reconcile", {});
    expect(response.statusCode).toBe(401);
  });
});
