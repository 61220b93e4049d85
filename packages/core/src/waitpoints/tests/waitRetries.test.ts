import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ValidationError } from "../../errors/runEngineError.ts";
import { startWaitEngine, type WaitFixture } from "./waitFixture.ts";

/**
 * A parent's attempt that fails while it waits on children (its worker died, the heartbeat monitor
 * failed the attempt) is retried, and the retry replays to the same wait. It must wait on the
 * children the failed attempt triggered, not trigger more of them.
 */
let f: WaitFixture;
beforeAll(async () => {
  f = await startWaitEngine("wait_retries");
});
afterAll(async () => {
  await f.close();
});

const engine = () => f.handle.engine;
const report = (snapshotId: string) => ({ workerId: f.workerId, snapshotId });
const latestOf = async (id: string) => (await engine().resources.snapshots.latestSnapshot(id))!;
const childrenOf = (parentRunId: string) =>
  f.db.prisma.taskRun.findMany({ where: { parentRunId }, orderBy: [{ batchIndex: "asc" }, { createdAt: "asc" }], select: { id: true } });

/** Hands every run of `runIds` to the worker (none other is queued), so a later dequeue finds only what it waits for. */
async function dequeueAll(runIds: readonly string[]): Promise<Map<string, string>> {
  const snapshots = new Map<string, string>();
  const deadline = Date.now() + 10_000;
  while (snapshots.size < runIds.length) {
    for (const run of await engine().dequeueForWorker({ workerId: f.workerId, maxRuns: 10 })) snapshots.set(run.runId, run.snapshotId);
    if (Date.now() > deadline) throw new Error(`dequeued only ${[...snapshots.keys()].join(", ")}`);
  }
  return snapshots;
}

async function startChild(childId: string): Promise<string> {
  const [snapshotId] = (await dequeueAll([childId])).values();
  return (await engine().startAttempt(f.environment.id, childId, report(snapshotId!))).snapshotId;
}

async function finishChild(childId: string, snapshotId: string, output: unknown): Promise<void> {
  await engine().reportAttemptResult(f.environment.id, childId, { ...report(snapshotId), result: { ok: true, output } });
  await expect.poll(async () => (await f.db.prisma.taskRun.findUniqueOrThrow({ where: { id: childId } })).status, { timeout: 10_000 }).toBe("COMPLETED_SUCCESSFULLY");
}

/** The worker holding the parent's attempt is gone: the attempt fails as stalled, and the retry starts on the worker. */
async function failAndRetry(parentId: string): Promise<string> {
  await engine().finalize.applyAttemptStalled({ runId: parentId, snapshotId: (await latestOf(parentId)).id });
  expect((await latestOf(parentId)).runStatus).toBe("RETRYING_AFTER_FAILURE");
  const dequeued = await f.dequeue(parentId);
  expect(dequeued.attemptNumber).toBe(2);
  return (await engine().startAttempt(f.environment.id, parentId, report(dequeued.snapshotId))).snapshotId;
}

async function waitUntilResumed(runId: string, snapshotId: string) {
  await expect
    .poll(async () => (await engine().waits.waitStatus(f.environment.id, runId, report(snapshotId))).state, { timeout: 10_000, interval: 50 })
    .toBe("resumed");
  return engine().waits.waitStatus(f.environment.id, runId, report(snapshotId));
}

describe("a retried parent attempt reaching the same wait", () => {
  test("triggerAndWait: gets the child its failed attempt triggered (still running), and only that child exists", async () => {
    const parent = await f.executingRun("hello");
    const wait = { kind: "run" as const, taskId: "hello", payload: { n: 1 } };
    const first = await engine().waits.wait(f.environment, parent.id, { ...report(parent.snapshotId), wait, journalIndex: 1 });
    const childId = first.runIds[0]!;
    const child = await startChild(childId);

    const retried = await failAndRetry(parent.id);
    const again = await engine().waits.wait(f.environment, parent.id, { ...report(retried), wait, journalIndex: 1 });
    expect(again.runIds).toEqual([childId]);
    expect(again.waitpointIds).toEqual(first.waitpointIds);
    expect(await childrenOf(parent.id)).toEqual([{ id: childId }]);
    // blocked by the child alone: the failed attempt's edge neither blocks nor counts twice
    expect(await f.db.prisma.taskRunWaitpoint.findMany({ where: { runId: parent.id }, select: { waitpointId: true } })).toEqual([{ waitpointId: first.waitpointIds[0] }]);
    expect((await latestOf(parent.id)).executionStatus).toBe("EXECUTING_WITH_WAITPOINTS");

    await finishChild(childId, child, { child: "done" });
    const status = await waitUntilResumed(parent.id, again.snapshotId);
    expect(status.completedWaitpoints).toEqual([{ id: first.waitpointIds[0], type: "RUN", output: { child: "done" }, isError: false }]);

    // another wait of the run (another journal index) is another child
    const next = await engine().waits.wait(f.environment, parent.id, { ...report(status.snapshotId), wait, journalIndex: 2 });
    expect(next.runIds[0]).not.toBe(childId);
    expect(await childrenOf(parent.id)).toHaveLength(2);
    await engine().cancel(f.environment.id, parent.id);
  });

  test("batchTriggerAndWait: gets the same runs, in the same order, and one batch", async () => {
    const parent = await f.executingRun("hello");
    const wait = { kind: "batch" as const, taskId: "hello", items: [{ payload: 0 }, { payload: 1 }, { payload: 2 }] };
    const first = await engine().waits.wait(f.environment, parent.id, { ...report(parent.snapshotId), wait, journalIndex: 0 });
    expect(first.runIds).toHaveLength(3);
    // one child still queued, the others handed to the worker
    await dequeueAll(first.runIds.slice(0, 2));

    const retried = await failAndRetry(parent.id);
    const again = await engine().waits.wait(f.environment, parent.id, { ...report(retried), wait, journalIndex: 0 });
    expect(again.runIds).toEqual(first.runIds);
    expect(again.waitpointIds).toEqual(first.waitpointIds);
    expect((await childrenOf(parent.id)).map((run) => run.id)).toEqual(first.runIds);
    expect(await f.db.prisma.batch.count({ where: { parentRunId: parent.id } })).toBe(1);
    expect(await f.db.prisma.taskRunWaitpoint.count({ where: { runId: parent.id } })).toBe(3);
    await engine().cancel(f.environment.id, parent.id);
  });

  test("a child that finished before the retry resumes the parent at once with its output", async () => {
    const parent = await f.executingRun("hello");
    const wait = { kind: "run" as const, taskId: "hello", payload: { n: 3 } };
    const first = await engine().waits.wait(f.environment, parent.id, { ...report(parent.snapshotId), wait, journalIndex: 4 });
    const childId = first.runIds[0]!;
    const child = await startChild(childId);
    await engine().finalize.applyAttemptStalled({ runId: parent.id, snapshotId: first.snapshotId });
    await finishChild(childId, child, { early: true });

    const dequeued = await f.dequeue(parent.id);
    const retried = (await engine().startAttempt(f.environment.id, parent.id, report(dequeued.snapshotId))).snapshotId;
    const again = await engine().waits.wait(f.environment, parent.id, { ...report(retried), wait, journalIndex: 4 });
    expect(again.runIds).toEqual([childId]);
    expect((await latestOf(parent.id)).executionStatus).toBe("EXECUTING");
    const status = await engine().waits.waitStatus(f.environment.id, parent.id, report(again.snapshotId));
    expect(status).toMatchObject({ state: "resumed", completedWaitpoints: [{ id: first.waitpointIds[0], type: "RUN", output: { early: true }, isError: false }] });
    expect(await childrenOf(parent.id)).toEqual([{ id: childId }]);
    await engine().cancel(f.environment.id, parent.id);
  });
});

test("a user's idempotency key may not take the prefix the engine keys a wait's children with", async () => {
  const trigger = engine().trigger({ environment: f.environment, taskId: "hello", payload: 1, options: { idempotencyKey: "runengine:wait:run_x:0" } });
  await expect(trigger).rejects.toBeInstanceOf(ValidationError);
  await expect(trigger).rejects.toMatchObject({ field: "options.idempotencyKey" });
});
