import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { helloTask, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
let workerId: string;
beforeAll(async () => {
  f = await startApi("api_worker_waits");
  const registered = await f.request("POST", "/api/v1/worker/register", { body: { version: "v2", name: "waiter", concurrency: 5, tasks: [helloTask] } });
  workerId = registered.json().workerId;
});
afterAll(async () => {
  await f.close();
});

/** A run of "hello" handed to the worker and started through the protocol: its EXECUTING snapshot. */
async function executingRun(): Promise<{ runId: string; snapshotId: string }> {
  const runId = (await f.request("POST", "/api/v1/tasks/hello/trigger", { body: { payload: 1 } })).json().id;
  const [run] = await f.handle.engine.dequeueForWorker({ workerId, maxRuns: 1 });
  expect(run?.runId).toBe(runId);
  const started = await f.request("POST", `/api/v1/worker/runs/${runId}/start`, { body: { workerId, snapshotId: run!.snapshotId } });
  return { runId, snapshotId: started.json().snapshotId };
}

describe("the worker protocol's waits", () => {
  test("wait on a token and checkpoint: the run is WAITING_TO_RESUME; a second checkpoint of that snapshot is a 409", async () => {
    const token = (await f.request("POST", "/api/v1/waitpoints/tokens", { body: {} })).json();
    const { runId, snapshotId } = await executingRun();
    const waited = await f.request("POST", `/api/v1/worker/runs/${runId}/wait`, { body: { workerId, snapshotId, wait: { kind: "token", tokenId: token.id } } });
    expect(waited.statusCode).toBe(201);
    expect(waited.json()).toMatchObject({ waitpointIds: [token.id], runIds: [], resumeAt: null });

    const status = await f.request("POST", `/api/v1/worker/runs/${runId}/wait/status`, { body: { workerId, snapshotId: waited.json().snapshotId } });
    expect(status.json()).toMatchObject({ state: "waiting" });

    const checkpoint = { workerId, snapshotId: waited.json().snapshotId, journal: [{ type: "wait", id: "wait.forToken", waitpointIds: [token.id], completed: false }] };
    const first = await f.request("POST", `/api/v1/worker/runs/${runId}/checkpoint`, { body: checkpoint });
    expect(first.statusCode).toBe(201);
    const again = await f.request("POST", `/api/v1/worker/runs/${runId}/checkpoint`, { body: checkpoint });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("STALE_SNAPSHOT");
    expect((await f.request("GET", `/api/v1/runs/${runId}`)).json().status).toBe("WAITING_TO_RESUME");
  });

  test("a wait naming a stale snapshot is a 409 and blocks nothing; another environment's key gets 404; a bad wait is a 400", async () => {
    const { runId, snapshotId } = await executingRun();
    const datetime = { kind: "datetime", until: new Date(Date.now() + 60_000).toISOString() };
    const stale = await f.request("POST", `/api/v1/worker/runs/${runId}/wait`, { body: { workerId, snapshotId: "not-the-newest", wait: datetime } });
    expect(stale.statusCode).toBe(409);
    expect(await f.db.prisma.taskRunWaitpoint.count({ where: { runId } })).toBe(0);

    const foreign = await f.request("POST", `/api/v1/worker/runs/${runId}/wait`, { key: f.other.apiKey, body: { workerId, snapshotId, wait: datetime } });
    expect(foreign.statusCode).toBe(404);

    const bad = await f.request("POST", `/api/v1/worker/runs/${runId}/wait`, { body: { workerId, snapshotId, wait: { kind: "datetime", until: "someday" } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe("wait.until");
  });
});
