import { afterAll, beforeAll, expect, test } from "vitest";
import type { Journal } from "../../schemas/waitpoint.ts";
import { startWaitEngine, waitTasks, type WaitFixture } from "./waitFixture.ts";

let f: WaitFixture;
beforeAll(async () => {
  f = await startWaitEngine("waitpoint_versions");
});
afterAll(async () => {
  await f.close();
});

const journal: Journal = [{ type: "wait", id: "wait.forToken", waitpointIds: [], completed: false }];

test("a run suspended on version 1 waits as PENDING_VERSION while only version 2 polls, and resumes on version 1 once it is back", async () => {
  const engine = f.handle.engine;
  const { token } = await engine.waits.createToken(f.environment.id, {});
  const run = await f.executingRun();
  const report = { workerId: f.workerId, snapshotId: run.snapshotId };
  const waited = await engine.waits.wait(f.environment, run.id, { ...report, wait: { kind: "token", tokenId: token.id } });
  await engine.waits.checkpoint(f.environment.id, run.id, { ...report, snapshotId: waited.snapshotId, journal });

  const v2 = await f.registerWorker(waitTasks, "v2");
  await engine.workers.deregister(f.workerId);
  await engine.waits.completeToken(f.environment.id, token.id, "approved");
  await expect.poll(async () => (await engine.resources.snapshots.latestSnapshot(run.id))?.executionStatus, { timeout: 10_000 }).toBe("QUEUED");
  // the QUEUED snapshot commits before the run is back in the queue: a dequeue must find it there
  await expect.poll(async () => (await engine.resources.runQueue.explain(run.id)).state, { timeout: 10_000 }).toBe("queued");

  expect(await engine.dequeueForWorker({ workerId: v2.workerId, maxRuns: 10 })).toEqual([]);
  const parked = await engine.resources.snapshots.latestSnapshot(run.id);
  expect(parked).toMatchObject({ executionStatus: "RUN_CREATED", runStatus: "PENDING_VERSION" });
  expect(parked?.description).toContain("version this run started on");

  const v1Again = await engine.registerWorker(f.environment, { version: "v1", name: "v1-again", concurrency: 10, tasks: waitTasks });
  const [resumed] = await engine.dequeueForWorker({ workerId: v1Again.workerId, maxRuns: 10 });
  expect(resumed).toMatchObject({ runId: run.id, deployment: { version: "v1" }, resume: { completedWaitpoints: [{ id: token.id, output: "approved" }] } });
  const restored = await engine.waits.resume(f.environment.id, run.id, { workerId: v1Again.workerId, snapshotId: resumed!.snapshotId });
  expect(restored.attemptNumber).toBe(1);
});
