import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NotFoundError, StaleSnapshotError } from "../../errors/runEngineError.ts";
import type { Journal } from "../../schemas/waitpoint.ts";
import { startWaitEngine, type WaitFixture } from "./waitFixture.ts";

let f: WaitFixture;
beforeAll(async () => {
  f = await startWaitEngine("waitpoints");
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const runOf = (id: string) => f.db.prisma.taskRun.findUniqueOrThrow({ where: { id } });
const latestOf = async (id: string) => (await engine().resources.snapshots.latestSnapshot(id))!;
const waitForExecutionStatus = (id: string, status: string) =>
  expect.poll(async () => (await latestOf(id)).executionStatus, { timeout: 10_000, interval: 50 }).toBe(status);
const report = (snapshotId: string) => ({ workerId: f.workerId, snapshotId });
const journal: Journal = [
  { type: "step", id: "fetch", result: { ok: true, output: { fetched: 1 } } },
  { type: "wait", id: "wait.forToken", waitpointIds: [], completed: false },
];

async function finish(runId: string, snapshotId: string, output: unknown) {
  await engine().reportAttemptResult(f.environment.id, runId, { ...report(snapshotId), result: { ok: true, output } });
  await expect.poll(async () => (await runOf(runId)).status, { timeout: 10_000 }).toBe("COMPLETED_SUCCESSFULLY");
}

describe("waits that stay on the worker", () => {
  test("a short DATETIME wait: EXECUTING → EXECUTING_WITH_WAITPOINTS → EXECUTING once the scheduler completes it", async () => {
    const run = await f.executingRun();
    const until = new Date(Date.now() + 2_000);
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "datetime", until } });
    expect(waited.resumeAt).toEqual(until);
    expect((await runOf(run.id)).status).toBe("EXECUTING");
    expect(await engine().waits.waitStatus(f.environment.id, run.id, report(waited.snapshotId))).toMatchObject({ state: "waiting" });

    await expect
      .poll(async () => (await engine().waits.waitStatus(f.environment.id, run.id, report(waited.snapshotId))).state, { timeout: 10_000, interval: 50 })
      .toBe("resumed");
    expect(Date.now()).toBeGreaterThanOrEqual(until.getTime());
    const status = await engine().waits.waitStatus(f.environment.id, run.id, report(waited.snapshotId));
    expect(status.completedWaitpoints).toEqual([{ id: waited.waitpointIds[0], type: "DATETIME", output: null, isError: false }]);
    expect(await f.historyOf(run.id)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "EXECUTING_WITH_WAITPOINTS", "EXECUTING"]);
    await finish(run.id, status.snapshotId, "done");
  });

  test("a heartbeat naming the snapshot before the wait is answered with the newest one, not refused", async () => {
    const run = await f.executingRun();
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "datetime", until: new Date(Date.now() + 60_000) } });
    expect(await engine().heartbeat(f.environment.id, run.id, report(run.snapshotId))).toEqual({ action: "continue", snapshotId: waited.snapshotId });
    expect(await engine().heartbeat(f.environment.id, run.id, { workerId: "another-worker", snapshotId: run.snapshotId }).catch((e: unknown) => e)).toBeInstanceOf(NotFoundError);
    await engine().cancel(f.environment.id, run.id);
  });
});

describe("checkpoints", () => {
  test("a checkpointed run releases its slot, is queued again when its token completes, and is restored with its journal", async () => {
    const { token } = await engine().waits.createToken(f.environment.id, {});
    const run = await f.executingRun();
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "token", tokenId: token.id } });
    expect(waited).toMatchObject({ waitpointIds: [token.id], resumeAt: null });
    expect(await engine().resources.runQueue.inFlight({ envId: f.environment.id, count: 1_000 })).toContainEqual(expect.objectContaining({ runId: run.id }));
    const checkpointJournal: Journal = [journal[0]!, { type: "wait", id: "wait.forToken", waitpointIds: [token.id], completed: false }];
    await engine().waits.checkpoint(f.environment.id, run.id, { ...report(waited.snapshotId), journal: checkpointJournal });

    expect((await runOf(run.id)).status).toBe("WAITING_TO_RESUME");
    const inFlight = async () => (await engine().resources.runQueue.inFlight({ envId: f.environment.id, count: 1_000 })).map((r) => r.runId);
    expect(await inFlight()).not.toContain(run.id);

    await engine().waits.completeToken(f.environment.id, token.id, { approved: true });
    await waitForExecutionStatus(run.id, "QUEUED");
    const dequeued = await f.dequeue(run.id);
    expect(dequeued.attemptNumber).toBe(1);
    expect(dequeued.resume).toEqual({
      checkpointId: expect.any(String),
      journal: checkpointJournal,
      completedWaitpoints: [{ id: token.id, type: "MANUAL", output: { approved: true }, isError: false }],
    });
    const restored = await engine().waits.resume(f.environment.id, run.id, report(dequeued.snapshotId));
    expect(restored.attemptNumber).toBe(1);
    await finish(run.id, restored.snapshotId, "resumed");
    expect(await f.historyOf(run.id)).toEqual([
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
    expect((await runOf(run.id)).attemptNumber).toBe(1);
  });

  test("a wait sent with `checkpoint` checkpoints the run in the same call, with the wait's entry appended to the journal", async () => {
    const run = await f.executingRun();
    const until = new Date(Date.now() + 60_000);
    const checkpoint = { waitId: "wait.for", journal: [journal[0]!], thresholdMs: 5_000 };
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "datetime", until }, checkpoint });
    expect(waited.checkpointed).toBe(true);
    const latest = await latestOf(run.id);
    expect(latest.executionStatus).toBe("SUSPENDED");
    expect(await f.historyOf(run.id)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "EXECUTING_WITH_WAITPOINTS", "SUSPENDED"]);
    const stored = await f.db.prisma.checkpoint.findUniqueOrThrow({ where: { id: latest.checkpointId! } });
    expect(stored.journal).toEqual([journal[0], { type: "wait", id: "wait.for", waitpointIds: waited.waitpointIds, runIds: [], completed: false }]);
    const inFlight = (await engine().resources.runQueue.inFlight({ envId: f.environment.id, count: 1_000 })).map((r) => r.runId);
    expect(inFlight).not.toContain(run.id);
  });

  test("a wait sent with `checkpoint` stays on the worker when it ends within the threshold, or has ended already", async () => {
    const short = await f.executingRun();
    const until = new Date(Date.now() + 1_000);
    const checkpoint = { waitId: "wait.for", journal: [], thresholdMs: 5_000 };
    const waited = await engine().waits.wait(f.environment, short.id, { ...report(short.snapshotId), wait: { kind: "datetime", until }, checkpoint });
    expect(waited.checkpointed).toBe(false);
    expect((await latestOf(short.id)).executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");

    const { token } = await engine().waits.createToken(f.environment.id, {});
    await engine().waits.completeToken(f.environment.id, token.id, "done before the wait");
    const ended = await f.executingRun();
    const tokenWait = { kind: "token" as const, tokenId: token.id };
    const answered = await engine().waits.wait(f.environment, ended.id, { ...report(ended.snapshotId), wait: tokenWait, checkpoint: { ...checkpoint, waitId: "wait.forToken" } });
    expect(answered.checkpointed).toBe(false);
    expect((await latestOf(ended.id)).executionStatus).toBe("EXECUTING");
    expect(await f.db.prisma.checkpoint.count({ where: { runId: { in: [short.id, ended.id] } } })).toBe(0);
  });

  test("a restore handed to a worker that never took it is requeued and still carries what its waits returned", async () => {
    const { token } = await engine().waits.createToken(f.environment.id, {});
    const run = await f.executingRun();
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "token", tokenId: token.id } });
    await engine().waits.checkpoint(f.environment.id, run.id, { ...report(waited.snapshotId), journal });
    await engine().waits.completeToken(f.environment.id, token.id, "data");
    await waitForExecutionStatus(run.id, "QUEUED");
    const lost = await f.dequeue(run.id);
    await engine().finalize.requeueUnstarted(run.id, lost.snapshotId);
    const again = await f.dequeue(run.id);
    expect(again.resume).toMatchObject({ completedWaitpoints: [{ id: token.id, output: "data" }] });
    const restored = await engine().waits.resume(f.environment.id, run.id, report(again.snapshotId));
    await finish(run.id, restored.snapshotId, "ok");
  });

  test("a suspended run whose resume job was lost is queued by the heartbeat monitor's periodic check", async () => {
    const { token } = await engine().waits.createToken(f.environment.id, {});
    const run = await f.executingRun();
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "token", tokenId: token.id } });
    await engine().waits.checkpoint(f.environment.id, run.id, { ...report(waited.snapshotId), journal });
    // completed behind the engine's back: no continue job exists
    await f.db.prisma.waitpoint.update({ where: { id: token.id }, data: { status: "COMPLETED", completedAt: new Date() } });
    const monitor = engine().heartbeatMonitor();
    expect((await monitor.tick()).suspendedRechecked).toBe(0);
    const later = Date.now() + engine().resources.settings.heartbeatTimeouts.suspendedRecheckMs + 1_000;
    expect((await monitor.tick(later)).suspendedRechecked).toBeGreaterThanOrEqual(1);
    await waitForExecutionStatus(run.id, "QUEUED");
  });

  test("a checkpoint naming a snapshot the run has moved past is refused and stores nothing", async () => {
    const run = await f.executingRun();
    // an instant already past completes at once: the run continues before the worker can checkpoint
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "datetime", until: new Date(Date.now() - 1) } });
    await waitForExecutionStatus(run.id, "EXECUTING");
    await expect(engine().waits.checkpoint(f.environment.id, run.id, { ...report(waited.snapshotId), journal })).rejects.toBeInstanceOf(StaleSnapshotError);
    expect(await f.db.prisma.checkpoint.count({ where: { runId: run.id } })).toBe(0);
    await finish(run.id, (await latestOf(run.id)).id, 1);
  });

  test("a run blocked by three tokens completed at once is queued again exactly once", async () => {
    const tokens = await Promise.all([1, 2, 3].map(() => engine().waits.createToken(f.environment.id, {})));
    const run = await f.executingRun();
    const { prisma } = f.db;
    // three waitpoints on one wait: block directly, as a batch wait does
    const { state: blocked } = await engine().waits.blocking.block(run.id, report(run.snapshotId), tokens.map(({ token }) => ({ waitpointId: token.id })), "three tokens");
    await engine().waits.checkpoint(f.environment.id, run.id, { ...report(blocked.snapshot.id), journal });
    await Promise.all(tokens.map(({ token }, i) => engine().waits.completeToken(f.environment.id, token.id, i)));
    const outcomes = await Promise.all([1, 2, 3, 4, 5].map(() => engine().waits.continueRunIfUnblocked(run.id)));
    expect(outcomes.filter((o) => o === "queued-to-resume").length).toBeLessThanOrEqual(1);
    await waitForExecutionStatus(run.id, "QUEUED");
    const queuedAgain = await prisma.executionSnapshot.count({ where: { runId: run.id, executionStatus: "QUEUED", isValid: true } });
    expect(queuedAgain).toBe(2);
    expect(await prisma.taskRunWaitpoint.count({ where: { runId: run.id } })).toBe(0);
    const dequeued = await f.dequeue(run.id);
    expect((dequeued.resume as { completedWaitpoints: { output: unknown }[] }).completedWaitpoints.map((w) => w.output)).toEqual([0, 1, 2]);
  });

  test("a token that times out resumes its run with a timeout error", async () => {
    const { token } = await engine().waits.createToken(f.environment.id, { timeout: new Date(Date.now() + 1_500) });
    const run = await f.executingRun();
    const waited = await engine().waits.wait(f.environment, run.id, { ...report(run.snapshotId), wait: { kind: "token", tokenId: token.id } });
    expect(waited.resumeAt).toEqual(token.timeoutAt);
    await engine().waits.checkpoint(f.environment.id, run.id, { ...report(waited.snapshotId), journal });
    await waitForExecutionStatus(run.id, "QUEUED");
    const dequeued = await f.dequeue(run.id);
    expect((dequeued.resume as { completedWaitpoints: unknown[] }).completedWaitpoints).toEqual([
      { id: token.id, type: "MANUAL", output: { name: "WaitpointTimeoutError", message: expect.stringContaining("timed out") }, isError: true },
    ]);
    // completing it later changes nothing
    expect((await engine().waits.completeToken(f.environment.id, token.id, "late")).outputIsError).toBe(true);
  });
});

describe("tokens", () => {
  test("an idempotency key returns the same token; another environment cannot see or complete it", async () => {
    const first = await engine().waits.createToken(f.environment.id, { idempotencyKey: "approval-1" });
    const second = await engine().waits.createToken(f.environment.id, { idempotencyKey: "approval-1" });
    expect(second).toMatchObject({ isCached: true, token: { id: first.token.id } });
    const { environment: other } = await engine().createEnvironment({ name: "other-tokens" });
    await expect(engine().waits.token(other.id, first.token.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(engine().waits.completeToken(other.id, first.token.id, 1)).rejects.toBeInstanceOf(NotFoundError);
    expect((await engine().waits.token(f.environment.id, first.token.id)).status).toBe("PENDING");
  });
});

describe("a parent waiting on a child", () => {
  test("triggerAndWait: the child records its parent; a failed child resumes the parent with its error", async () => {
    const parent = await f.executingRun("parent");
    const waited = await engine().waits.wait(f.environment, parent.id, {
      ...report(parent.snapshotId),
      wait: { kind: "run", taskId: "child", payload: { n: 1 }, options: { maxAttempts: 1 } },
    });
    const childId = waited.runIds[0]!;
    expect(await runOf(childId)).toMatchObject({ parentRunId: parent.id, rootRunId: parent.id, depth: 1, resumeParentOnCompletion: true });
    await engine().waits.checkpoint(f.environment.id, parent.id, { ...report(waited.snapshotId), journal });

    // the parent gave its slot back: the child gets the queue's only slot
    const child = await f.dequeue(childId);
    const started = await engine().startAttempt(f.environment.id, childId, report(child.snapshotId));
    await engine().reportAttemptResult(f.environment.id, childId, {
      ...report(started.snapshotId),
      result: { ok: false, error: { name: "TypeError", message: "child broke", retryable: false }, reason: "TASK_ERROR" },
    });
    await waitForExecutionStatus(parent.id, "QUEUED");
    const resumed = await f.dequeue(parent.id);
    expect((resumed.resume as { completedWaitpoints: unknown[] }).completedWaitpoints).toEqual([
      {
        id: waited.waitpointIds[0],
        type: "RUN",
        output: expect.objectContaining({ name: "TypeError", message: "child broke", status: "COMPLETED_WITH_ERRORS", runId: childId }),
        isError: true,
      },
    ]);
  });

  test("a child that finished before the parent waited on it resumes the parent at once", async () => {
    const { id: childId } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1 });
    const child = await f.dequeue(childId);
    const started = await engine().startAttempt(f.environment.id, childId, report(child.snapshotId));
    await finish(childId, started.snapshotId, { early: true });
    const waitpoint = await engine().waits.waitpoints.runWaitpoint(childId);
    expect(waitpoint).toMatchObject({ status: "COMPLETED", output: { early: true }, outputIsError: false });
    expect((await engine().waits.waitpoints.runWaitpoint(childId)).id).toBe(waitpoint.id);
  });

  test("a triggerAndWait that joins a run triggered without a parent (its idempotency key) resumes the parent when that run ends", async () => {
    const parent = await f.executingRun();
    const { id: standaloneId } = await engine().trigger({ environment: f.environment, taskId: "hello", payload: 1, options: { idempotencyKey: "shared-report" } });
    const wait = { kind: "run" as const, taskId: "hello", payload: 1, options: { idempotencyKey: "shared-report" } };
    const waited = await engine().waits.wait(f.environment, parent.id, { ...report(parent.snapshotId), wait });
    expect(waited.runIds).toEqual([standaloneId]);
    expect((await runOf(standaloneId)).parentRunId).toBeNull();
    const standalone = await f.dequeue(standaloneId);
    await finish(standaloneId, (await engine().startAttempt(f.environment.id, standaloneId, report(standalone.snapshotId))).snapshotId, { shared: true });
    await waitForExecutionStatus(parent.id, "EXECUTING");
    expect(await engine().waits.waitStatus(f.environment.id, parent.id, report(waited.snapshotId))).toMatchObject({
      state: "resumed",
      completedWaitpoints: [{ type: "RUN", output: { shared: true }, isError: false }],
    });
  });

  test("a BATCH waitpoint completes once every run of the batch is final, with each run's outcome in order", async () => {
    const { batchId, runs } = await engine().batchTrigger(f.environment, "hello", [{ payload: 1 }, { payload: 2 }]);
    const waitpoint = await engine().waits.waitpoints.batchWaitpoint(batchId);
    expect(waitpoint.status).toBe("PENDING");
    const [first, second] = [runs[0]!.id, runs[1]!.id];
    await engine().cancel(f.environment.id, second);
    expect((await engine().waits.waitpoints.batchWaitpoint(batchId)).status).toBe("PENDING");
    const firstRun = await f.dequeue(first);
    await finish(first, (await engine().startAttempt(f.environment.id, first, report(firstRun.snapshotId))).snapshotId, "one");
    await expect.poll(async () => (await engine().waits.waitpoints.batchWaitpoint(batchId)).status, { timeout: 10_000 }).toBe("COMPLETED");
    expect((await engine().waits.waitpoints.batchWaitpoint(batchId)).output).toEqual([
      { id: first, status: "COMPLETED_SUCCESSFULLY", output: "one" },
      { id: second, status: "CANCELED", error: expect.objectContaining({ status: "CANCELED" }) },
    ]);
  });

  test("cancelling a waiting parent cancels its children", async () => {
    const parent = await f.executingRun("hello");
    const waited = await engine().waits.wait(f.environment, parent.id, { ...report(parent.snapshotId), wait: { kind: "run", taskId: "hello", payload: 2 } });
    await engine().waits.checkpoint(f.environment.id, parent.id, { ...report(waited.snapshotId), journal });
    expect(await engine().cancel(f.environment.id, parent.id)).toBe("CANCELED");
    await expect.poll(async () => (await runOf(waited.runIds[0]!)).status, { timeout: 10_000 }).toBe("CANCELED");
    expect((await latestOf(waited.runIds[0]!)).description).toContain(`Parent run ${parent.id} was cancelled`);
  });
});
