import type { Worker } from "bullmq";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { createFinalizerWorker, DispatchServer } from "@runengine/core";
import { buildServer } from "../../server.ts";
import { helloTask, startApi, type ApiFixture } from "../../tests/apiFixture.ts";

let f: ApiFixture;
let finalizer: Worker;
const dispatchers: DispatchServer[] = [];
let workerId: string;
let otherWorkerId: string;

beforeAll(async () => {
  f = await startApi("api_worker_protocol");
  finalizer = createFinalizerWorker(f.handle.engine, { ...f.handle.jobQueuesOptions(), concurrency: 5 });
  workerId = (await register(f.apiKey)).workerId;
  otherWorkerId = (await register(f.other.apiKey)).workerId;
});
afterEach(async () => {
  for (const dispatcher of dispatchers.splice(0)) await dispatcher.stop();
});
afterAll(async () => {
  await finalizer.close();
  await f.close();
});

/**
 * The dispatcher role, in process. It answers a parked request when a trigger wakes it, or at its
 * next retry pass (every retryIntervalMs), which is also when a request past its deadline gets [].
 */
async function startDispatcher(retryIntervalMs = 200): Promise<DispatchServer> {
  const { handle } = f;
  const dispatcher = new DispatchServer({
    blocking: handle.connectRedis(),
    subscriber: handle.connectRedis(),
    redis: handle.connectRedis(),
    keys: handle.engine.resources.relayKeys,
    logger: pino({ level: "silent" }),
    dequeue: (request) => handle.engine.dequeueForWorker(request),
    retryIntervalMs,
  });
  await dispatcher.start();
  dispatchers.push(dispatcher);
  return dispatcher;
}

async function register(key: string): Promise<{ workerId: string; deploymentId: string }> {
  const response = await f.request("POST", "/api/v1/worker/register", { key, body: { version: "v2", name: "test-worker", concurrency: 5, tasks: [helloTask] } });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function trigger(key = f.apiKey, payload: unknown = { name: "Ada" }): Promise<string> {
  const response = await f.request("POST", "/api/v1/tasks/hello/trigger", { key, body: { payload } });
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

async function dequeue(body: { workerId: string; maxRuns: number; waitMs: number }, key = f.apiKey) {
  return f.request("POST", "/api/v1/worker/dequeue", { key, body });
}

/** Triggers a run and takes it through the api until the worker holds it (PENDING_EXECUTING). */
async function dequeuedRun(key = f.apiKey, worker = workerId): Promise<{ runId: string; snapshotId: string }> {
  const runId = await trigger(key);
  const response = await dequeue({ workerId: worker, maxRuns: 1, waitMs: 5_000 }, key);
  expect(response.statusCode).toBe(200);
  const [run] = response.json().runs as { runId: string; snapshotId: string }[];
  expect(run?.runId).toBe(runId);
  return run!;
}

const statusOf = async (runId: string) => (await f.request("GET", `/api/v1/runs/${runId}`)).json().status;

describe("the worker protocol, end to end", () => {
  test("register → dequeue → start → heartbeat → complete → COMPLETED_SUCCESSFULLY", async () => {
    await startDispatcher();
    const { runId, snapshotId } = await dequeuedRun();

    const start = await f.request("POST", `/api/v1/worker/runs/${runId}/start`, { body: { workerId, snapshotId } });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toEqual({ snapshotId: expect.any(String), attemptNumber: 1 });
    const executing = start.json().snapshotId as string;

    const heartbeat = await f.request("POST", `/api/v1/worker/runs/${runId}/heartbeat`, { body: { workerId, snapshotId: executing } });
    expect(heartbeat.statusCode).toBe(200);
    expect(heartbeat.json()).toEqual({ action: "continue", snapshotId: executing });

    const complete = await f.request("POST", `/api/v1/worker/runs/${runId}/complete`, {
      body: { workerId, snapshotId: executing, result: { ok: true, output: { greeting: "hi Ada" } } },
    });
    expect(complete.statusCode).toBe(202);
    expect(complete.json()).toEqual({ accepted: true });

    await expect.poll(() => statusOf(runId), { timeout: 10_000 }).toBe("COMPLETED_SUCCESSFULLY");
    const run = (await f.request("GET", `/api/v1/runs/${runId}`)).json();
    expect(run).toMatchObject({ output: { greeting: "hi Ada" }, attemptCount: 1, startedAt: expect.any(String), completedAt: expect.any(String) });
    const { snapshots } = (await f.request("GET", `/api/v1/runs/${runId}/history`)).json() as { snapshots: Record<string, unknown>[] };
    expect(snapshots.map((s) => s.executionStatus)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "FINISHED"]);
    expect(snapshots[2]).toMatchObject({ workerId, attemptNumber: 1 });

    // The worker's reports are now stale: refused with 409, and nothing changes.
    const lateComplete = await f.request("POST", `/api/v1/worker/runs/${runId}/complete`, {
      body: { workerId, snapshotId: executing, result: { ok: false, error: { name: "Error", message: "late" } } },
    });
    expect(lateComplete.statusCode).toBe(409);
    expect(lateComplete.json().error.code).toBe("STALE_SNAPSHOT");
    const lateStart = await f.request("POST", `/api/v1/worker/runs/${runId}/start`, { body: { workerId, snapshotId } });
    expect(lateStart.statusCode).toBe(409);
    expect(lateStart.json().error.code).toBe("STALE_SNAPSHOT");
    expect(await statusOf(runId)).toBe("COMPLETED_SUCCESSFULLY");
    expect((await f.request("GET", `/api/v1/runs/${runId}/history`)).json().snapshots).toHaveLength(4);
  });

  test("several runs' starts and results in one request: each answered on its own, in order, as its single-run call would be", async () => {
    await startDispatcher();
    const first = await dequeuedRun();
    const second = await dequeuedRun();
    const foreign = await dequeuedRun(f.other.apiKey, otherWorkerId);

    const start = await f.request("POST", "/api/v1/worker/runs/start", {
      body: {
        runs: [
          { runId: first.runId, workerId, snapshotId: first.snapshotId },
          { runId: second.runId, workerId, snapshotId: "not-the-newest" },
          { runId: foreign.runId, workerId, snapshotId: foreign.snapshotId },
          { runId: second.runId, workerId, snapshotId: second.snapshotId },
        ],
      },
    });
    expect(start.statusCode).toBe(200);
    const started = start.json().runs as Record<string, unknown>[];
    expect(started).toEqual([
      { runId: first.runId, ok: true, snapshotId: expect.any(String), attemptNumber: 1 },
      { runId: second.runId, ok: false, status: 409, error: { code: "STALE_SNAPSHOT", message: expect.any(String) } },
      { runId: foreign.runId, ok: false, status: 404, error: { code: "NOT_FOUND", message: expect.any(String) } },
      { runId: second.runId, ok: true, snapshotId: expect.any(String), attemptNumber: 1 },
    ]);

    const complete = await f.request("POST", "/api/v1/worker/runs/complete", {
      body: {
        runs: [
          { runId: first.runId, workerId, snapshotId: started[0]!.snapshotId, result: { ok: true, output: 1 } },
          { runId: second.runId, workerId, snapshotId: started[3]!.snapshotId, result: { ok: false, error: { name: "Error", message: "no", retryable: false } } },
          { runId: first.runId, workerId, snapshotId: first.snapshotId, result: { ok: true, output: "stale" } },
        ],
      },
    });
    expect(complete.statusCode).toBe(202);
    expect(complete.json().runs).toEqual([
      { runId: first.runId, ok: true },
      { runId: second.runId, ok: true },
      { runId: first.runId, ok: false, status: 409, error: { code: "STALE_SNAPSHOT", message: expect.any(String) } },
    ]);
    await expect.poll(() => statusOf(first.runId), { timeout: 10_000 }).toBe("COMPLETED_SUCCESSFULLY");
    await expect.poll(() => statusOf(second.runId), { timeout: 10_000 }).toBe("COMPLETED_WITH_ERRORS");
    expect((await f.request("GET", `/api/v1/runs/${first.runId}`)).json().output).toBe(1);
    expect((await f.request("GET", `/api/v1/runs/${foreign.runId}`, { key: f.other.apiKey })).json().status).toBe("DEQUEUED");

    const bad = await f.request("POST", "/api/v1/worker/runs/start", { body: { runs: [] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.field).toBe("runs");
  });

  test("a run cancelled while executing: the heartbeat says cancel, the worker's report ends it", async () => {
    await startDispatcher();
    const { runId, snapshotId } = await dequeuedRun();
    const executing = (await f.request("POST", `/api/v1/worker/runs/${runId}/start`, { body: { workerId, snapshotId } })).json().snapshotId;
    expect((await f.request("POST", `/api/v1/runs/${runId}/cancel`)).json()).toEqual({ id: runId, status: "CANCELED" });

    const heartbeat = await f.request("POST", `/api/v1/worker/runs/${runId}/heartbeat`, { body: { workerId, snapshotId: executing } });
    expect(heartbeat.json()).toMatchObject({ action: "cancel" });
    const report = await f.request("POST", `/api/v1/worker/runs/${runId}/complete`, {
      body: { workerId, snapshotId: executing, result: { ok: false, error: { name: "AbortError", message: "cancelled" }, reason: "CANCELLED" } },
    });
    expect(report.statusCode).toBe(202);
    await expect
      .poll(async () => (await f.request("GET", `/api/v1/runs/${runId}/history`)).json().snapshots.at(-1).executionStatus, { timeout: 10_000 })
      .toBe("FINISHED");
    expect(await statusOf(runId)).toBe("CANCELED");
  });

  test("a dequeue with nothing queued answers { runs: [] } after about waitMs", async () => {
    await startDispatcher(50);
    const startedAt = Date.now();
    const response = await dequeue({ workerId, maxRuns: 2, waitMs: 500 });
    const elapsed = Date.now() - startedAt;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ runs: [] });
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1_500);
  });

  test("a waiting dequeue answers within ~100 ms of a trigger", async () => {
    // No retry pass during the test: a quick answer can only come from the trigger's wake-up.
    const dispatcher = await startDispatcher(60_000);
    const waiting = dequeue({ workerId, maxRuns: 1, waitMs: 20_000 });
    await expect.poll(() => dispatcher.parkedCount(), { timeout: 5_000 }).toBe(1);
    const triggeredAt = Date.now();
    const runId = await trigger();
    const response = await waiting;
    const latency = Date.now() - triggeredAt;
    expect(response.json().runs.map((run: { runId: string }) => run.runId)).toEqual([runId]);
    // the trigger's own request is part of the measured time
    expect(latency).toBeLessThan(250);
    await f.request("POST", `/api/v1/runs/${runId}/cancel`);
  });

  test("deregister stops the worker", async () => {
    const { workerId: leaving } = await register(f.apiKey);
    const response = await f.request("POST", "/api/v1/worker/deregister", { body: { workerId: leaving } });
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe("");
    expect((await f.db.prisma.workerInstance.findUniqueOrThrow({ where: { id: leaving } })).stoppedAt).not.toBeNull();
  });
});

test("closing the server answers a waiting long poll with no runs at once", async () => {
  // no dispatcher: the request waits in the relay until the server closes
  const app = buildServer({ handle: f.handle, logger: pino({ level: "silent" }), config: { ADMIN_TOKEN: undefined, API_BODY_LIMIT_BYTES: 100_000, API_BATCH_BODY_LIMIT_BYTES: 100_000 } });
  const address = await app.listen({ port: 0, host: "127.0.0.1" });
  const { redis, relayKeys } = f.handle.engine.resources;
  const waiting = fetch(`${address}/api/v1/worker/dequeue`, {
    method: "POST",
    headers: { authorization: `Bearer ${f.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ workerId, maxRuns: 1, waitMs: 30_000 }),
  });
  await expect.poll(() => redis.llen(relayKeys.requests), { timeout: 5_000 }).toBe(1);
  const closingAt = Date.now();
  await app.close();
  const response = await waiting;
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ runs: [] });
  expect(Date.now() - closingAt).toBeLessThan(1_000);
  await redis.del(relayKeys.requests);
});

describe("worker calls refused", () => {
  test.each([
    ["register without tasks", "tasks", "/api/v1/worker/register", { version: "v1", name: "w", concurrency: 1, tasks: [] }],
    ["register with a bad task id", "tasks.0.id", "/api/v1/worker/register", { version: "v1", name: "w", concurrency: 1, tasks: [{ ...helloTask, id: "a b" }] }],
    ["dequeue of no runs", "maxRuns", "/api/v1/worker/dequeue", { workerId: "w", maxRuns: 0 }],
    ["dequeue waiting too long", "waitMs", "/api/v1/worker/dequeue", { workerId: "w", maxRuns: 1, waitMs: 3_600_000 }],
    ["start without a snapshot", "snapshotId", "/api/v1/worker/runs/run_x/start", { workerId: "w" }],
    ["complete without a result", "result", "/api/v1/worker/runs/run_x/complete", { workerId: "w", snapshotId: "s" }],
  ])("%s → 400 naming %s", async (_name, field, url, body) => {
    const response = await f.request("POST", url, { body });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: "VALIDATION", field });
  });

  test("an unknown worker is not found", async () => {
    const response = await dequeue({ workerId: "no-such-worker", maxRuns: 1, waitMs: 0 });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe("NOT_FOUND");
  });

  test("without a key every worker route is 401", async () => {
    for (const url of ["/api/v1/worker/register", "/api/v1/worker/dequeue", "/api/v1/worker/runs/r/start", "/api/v1/worker/runs/r/heartbeat", "/api/v1/worker/runs/r/complete", "/api/v1/worker/deregister"]) {
      expect((await f.request("POST", url, { key: null, body: {} })).statusCode, url).toBe(401);
    }
  });

  test("neither another environment's worker nor its runs can be used, and they stay as they were", async () => {
    await startDispatcher();
    // the other environment's run, held by its own worker
    const foreign = await dequeuedRun(f.other.apiKey, otherWorkerId);
    const historyBefore = await f.db.prisma.executionSnapshot.count({ where: { runId: foreign.runId } });
    const { runId: foreignRun, snapshotId: foreignSnapshot } = foreign;

    const attempts = [
      // our worker, their run (even knowing its snapshot id)
      ["start", `/api/v1/worker/runs/${foreignRun}/start`, { workerId, snapshotId: foreignSnapshot }],
      ["heartbeat", `/api/v1/worker/runs/${foreignRun}/heartbeat`, { workerId, snapshotId: foreignSnapshot }],
      ["heartbeat, guessing", `/api/v1/worker/runs/${foreignRun}/heartbeat`, { workerId, snapshotId: "guess" }],
      ["complete", `/api/v1/worker/runs/${foreignRun}/complete`, { workerId, snapshotId: foreignSnapshot, result: { ok: true, output: 1 } }],
      // their worker, through our key
      ["dequeue", "/api/v1/worker/dequeue", { workerId: otherWorkerId, maxRuns: 1, waitMs: 0 }],
      ["deregister", "/api/v1/worker/deregister", { workerId: otherWorkerId }],
      ["start with their worker", `/api/v1/worker/runs/${foreignRun}/start`, { workerId: otherWorkerId, snapshotId: foreignSnapshot }],
    ] as const;
    for (const [name, url, body] of attempts) {
      const response = await f.request("POST", url, { body });
      expect(response.statusCode, name).toBe(404);
      expect(response.json().error.code, name).toBe("NOT_FOUND");
    }

    expect(await f.db.prisma.executionSnapshot.count({ where: { runId: foreignRun } })).toBe(historyBefore);
    expect((await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: foreignRun } })).status).toBe("DEQUEUED");
    expect((await f.db.prisma.workerInstance.findUniqueOrThrow({ where: { id: otherWorkerId } })).stoppedAt).toBeNull();
    // the rightful worker still holds the run
    const start = await f.request("POST", `/api/v1/worker/runs/${foreignRun}/start`, { key: f.other.apiKey, body: { workerId: otherWorkerId, snapshotId: foreignSnapshot } });
    expect(start.statusCode).toBe(200);
  });
});
