import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * Waits and checkpoints against the real processes: runs that wait leave their worker (SUSPENDED,
 * slot released), resume on whichever worker of their version dequeues them, and replay their
 * task with the journal so that completed steps do not run again.
 */
let e: E2EEngine;
// Waits of a second or more checkpoint; shorter ones stay on the worker.
const workerEnv = { RUNENGINE_CHECKPOINT_THRESHOLD_MS: "1000" };
const startWaitWorker = (name: string, version = "e2e-1", concurrency = 10) =>
  e.startWorker(name, concurrency, { tasksFile: "waitTasks.ts", version, env: workerEnv });

beforeAll(async () => {
  e = await E2EEngine.start("e2e_waitpoints", {
    HEARTBEAT_EXECUTING_TIMEOUT_MS: "6000",
    HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: "15000",
    HEARTBEAT_MONITOR_INTERVAL_MS: "200",
    // one payload's limit for waits too (16 MiB by default), so a journal that passes it is cheap to build
    API_BATCH_BODY_LIMIT_BYTES: String(1_048_576 + 64 * 1024),
  });
});
afterAll(async () => {
  await e?.close();
});

const poll = (id: string, timeoutMs = 90_000) => e.client.runs.poll(id, { intervalMs: 250, timeoutMs });
const statusesOf = async (id: string) => (await e.client.runs.history(id)).snapshots.map((s) => s.executionStatus);
/**
 * The history with each hand-off retried after a lost dequeue (QUEUED → PENDING_EXECUTING → QUEUED,
 * which a loaded machine or a killed worker's last poll causes) counted once.
 */
const handoffsCollapsed = (statuses: string[]) => statuses.join(" ").replace(/(QUEUED PENDING_EXECUTING )+/g, "QUEUED PENDING_EXECUTING ").split(" ");
const inFlight = async () => (await e.runQueue.inFlight({ envId: e.environment.id, count: 10_000 })).map((r) => r.runId);
const waitForStatus = (id: string, status: string, timeoutMs = 60_000) =>
  waitFor(async () => (await e.client.runs.retrieve(id)).status === status, timeoutMs, 100);

describe("waits across worker processes", () => {
  test("a run checkpointed in a 3 s wait survives its worker's SIGKILL, resumes on another worker, and ran its step once", async () => {
    const first = await startWaitWorker("kill-a");
    const { id } = await e.client.trigger("step-then-wait", { seconds: 3 });
    await waitForStatus(id, "WAITING_TO_RESUME");
    // suspended: off the worker, its concurrency slot free (no other run of the environment is out)
    expect(await inFlight()).not.toContain(id);
    expect((await e.runQueue.stats({ envId: e.environment.id })).inFlight).toBe(0);
    first.child.kill("SIGKILL");
    await first.exited;
    await startWaitWorker("kill-b");

    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ counted: 1, version: "e2e-1" });
    expect(await e.redis.get(`${e.prefix}steps:${id}`)).toBe("1");
    expect(await e.redis.get(`${e.prefix}marks:${id}`)).toBe("1");
    const [before] = await e.redis.lrange(`${e.prefix}before:${id}`, 0, -1);
    const after = await e.redis.lrange(`${e.prefix}after:${id}`, 0, -1);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(handoffsCollapsed(await statusesOf(id))).toEqual([
      "QUEUED",
      "PENDING_EXECUTING",
      "EXECUTING",
      "EXECUTING_WITH_WAITPOINTS",
      "SUSPENDED",
      "QUEUED",
      "PENDING_EXECUTING",
      "EXECUTING",
      "FINISHED",
    ]);
    expect(run.attemptCount).toBe(1);
  });

  test("a short wait stays on the worker: EXECUTING → EXECUTING_WITH_WAITPOINTS → EXECUTING, no checkpoint", async () => {
    const { id } = await e.client.trigger("step-then-wait", { seconds: 0.3 });
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(handoffsCollapsed(await statusesOf(id))).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "EXECUTING_WITH_WAITPOINTS", "EXECUTING", "FINISHED"]);
  });

  test("a 5-deep triggerAndWait chain on a queue with a limit of 1 completes", async () => {
    const { id } = await e.client.trigger("chain", { depth: 4 });
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ depth: 4, below: { depth: 3, below: { depth: 2, below: { depth: 1, below: { depth: 0, below: null } } } } });
    const children = await e.db.prisma.taskRun.findMany({ where: { rootRunId: id }, orderBy: { depth: "asc" } });
    expect(children.map((child) => child.depth)).toEqual([1, 2, 3, 4]);
  });

  test("a token completed over HTTP resumes its run with the data; one that times out resumes with a timeout error", async () => {
    const completed = await e.client.waitpoints.createToken();
    const timingOut = await e.client.waitpoints.createToken({ timeout: "2s" });
    const completedRun = await e.client.trigger("token-waiter", { tokenId: completed.id });
    const timedOutRun = await e.client.trigger("token-waiter", { tokenId: timingOut.id });
    await waitForStatus(completedRun.id, "WAITING_TO_RESUME");
    await e.client.waitpoints.completeToken(completed, { approved: "yes" });

    expect((await poll(completedRun.id)).output).toEqual({ ok: true, output: { approved: "yes" } });
    const timedOut = await poll(timedOutRun.id);
    expect(timedOut.output).toMatchObject({ ok: false, error: { name: "WaitpointTimeoutError" } });
    expect((await e.client.waitpoints.retrieveToken(timingOut)).isError).toBe(true);

    const other = await e.createEnvironment("tokens-other");
    const res = await fetch(`${e.engine.apiUrl}/api/v1/waitpoints/tokens/${completed.id}`, { headers: { authorization: `Bearer ${other.apiKey}` } });
    expect(res.status).toBe(404);
  });

  test("a child that takes no input and returns nothing resumes its parent; so does a token completed without data, after a checkpoint", async () => {
    const token = await e.client.waitpoints.createToken();
    const { id } = await e.client.trigger("void-waiter", { tokenId: token.id });
    await waitForStatus(id, "WAITING_TO_RESUME");
    await e.client.waitpoints.completeToken(token);

    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ childOk: true, childOutput: "nothing", tokenOk: true });
    expect(await e.redis.get(`${e.prefix}void-child-runs`)).toBe("1");
    expect(await statusesOf(id)).toContain("SUSPENDED");
  });

  test("a wait whose journal is too large to checkpoint stays on the worker instead, and the run completes", async () => {
    const { id } = await e.client.trigger("big-journal-waiter", { steps: 3, bytes: 500_000, seconds: 2 });
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toEqual({ total: 1_500_000 });
    expect(run.attemptCount).toBe(1);
    expect(await statusesOf(id)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "EXECUTING_WITH_WAITPOINTS", "EXECUTING", "FINISHED"]);
  });

  test("batchTriggerAndWait of 100 children returns 100 results in order, failures included", async () => {
    const { id } = await e.client.trigger("batch-parent", { count: 100 });
    const run = await poll(id, 120_000);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    const expected = Array.from({ length: 100 }, (_, i) => (i % 10 === 3 ? { error: `item ${i} fails` } : i * 2));
    expect(run.output).toEqual(expected);
  });

  test("a run suspended on version 1 resumes on version 1's worker while a version 2 worker is also polling", async () => {
    await startWaitWorker("version-1", "e2e-1");
    const { id } = await e.client.trigger("step-then-wait", { seconds: 3 });
    await waitForStatus(id, "WAITING_TO_RESUME");
    // a version 2 worker polls too; the run must not resume there
    const v2 = await startWaitWorker("version-2", "e2e-2");
    const run = await poll(id);
    expect(run.output).toMatchObject({ version: "e2e-1" });
    const after = await e.redis.lrange(`${e.prefix}after:${id}`, 0, -1);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatch(/:e2e-1$/);
    expect(after[0]).not.toBe(`${v2.child.pid}:e2e-2`);
  });
});
