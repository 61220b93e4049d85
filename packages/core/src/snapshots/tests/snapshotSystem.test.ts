import { describe, expect, test } from "vitest";
import { LockAcquisitionTimeoutError, StaleSnapshotError } from "../../errors/runEngineError.ts";
import { applyMutations } from "../applyMutations.ts";
import { planMutation } from "../planMutation.ts";
import type { MutationPlan } from "../types.ts";
import { snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-system");

describe("createRun", () => {
  test("writes the run, showing the first snapshot's status, and that snapshot", async () => {
    const system = fixture.newSystem();
    const { run, snapshot } = await system.createRun(fixture.runData({ delayUntil: new Date(Date.now() + 60_000) }), {
      executionStatus: "DELAYED",
      runStatus: "DELAYED",
      description: "delayed by 1m",
    });
    expect(run.status).toBe("DELAYED");
    expect(snapshot).toMatchObject({ runId: run.id, environmentId: run.environmentId, executionStatus: "DELAYED", isValid: true, previousSnapshotId: null });
    expect(await system.history(run.id)).toEqual([snapshot]);
  });

  test("is one transaction: when the snapshot cannot be written, there is no run either", async () => {
    const system = fixture.newSystem();
    const runsBefore = await fixture.prisma.taskRun.count();
    // an attempt number beyond Postgres' int4 makes the second insert fail
    const creating = system.createRun(fixture.runData(), { executionStatus: "QUEUED", runStatus: "PENDING", description: "x", attemptNumber: 2 ** 40 });
    await expect(creating).rejects.toThrow();
    expect(await fixture.prisma.taskRun.count()).toBe(runsBefore);
  });
});

describe("mutate", () => {
  test("writes the run update with the new status, and carries attempt, worker and checkpoint until told otherwise", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    await system.mutate(run.id, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued", workerId: "worker_1" });
    const started = await system.mutate(run.id, {
      executionStatus: "EXECUTING",
      runStatus: "EXECUTING",
      description: "attempt 1",
      attemptNumber: 1,
      runUpdate: { attemptNumber: 1, startedAt: new Date("2026-01-01T00:00:00Z") },
    });
    expect(started.run).toMatchObject({ status: "EXECUTING", attemptNumber: 1, startedAt: new Date("2026-01-01T00:00:00Z") });
    expect(started.snapshot).toMatchObject({ attemptNumber: 1, workerId: "worker_1" });

    const requeued = await system.mutate(run.id, { executionStatus: "QUEUED", runStatus: "RETRYING_AFTER_FAILURE", description: "retry", workerId: null });
    expect(requeued.snapshot).toMatchObject({ attemptNumber: 1, workerId: null, checkpointId: null, previousSnapshotId: started.snapshot.id });
    expect(requeued.run.status).toBe("RETRYING_AFTER_FAILURE");
  });

  test("records completed waitpoints in order, and is one transaction with the run update", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    const waitpoints = await Promise.all(
      [1, 2].map(() => fixture.prisma.waitpoint.create({ data: { environmentId: run.environmentId, type: "MANUAL", status: "COMPLETED" } })),
    );
    const ids = [waitpoints[1]!.id, waitpoints[0]!.id, waitpoints[1]!.id];
    const { snapshot } = await system.mutate(run.id, { executionStatus: "QUEUED", runStatus: "PENDING", description: "requeue", completedWaitpointIds: ids });
    const stored = await fixture.prisma.snapshotCompletedWaitpoint.findMany({ where: { snapshotId: snapshot.id }, orderBy: { index: "asc" } });
    expect(stored.map((row) => row.waitpointId)).toEqual(ids);

    // a waitpoint that does not exist fails the snapshot insert: the run update rolls back with it
    const before = await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } });
    const failing = system.mutate(run.id, {
      executionStatus: "PENDING_EXECUTING",
      runStatus: "DEQUEUED",
      description: "dequeued",
      completedWaitpointIds: ["waitpoint_missing"],
      runUpdate: { priority: 7 },
    });
    await expect(failing).rejects.toThrow();
    expect(await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).toEqual(before);
    expect(await system.latestSnapshot(run.id)).toEqual(snapshot);
  });

  test("afterCommit runs once the change is committed, still holding the run lock", async () => {
    const system = fixture.newSystem();
    const rival = fixture.newLocker({ retryDelayMs: 10, acquireTimeoutMs: 100 });
    const { run } = await fixture.queuedRun(system);
    let inside!: () => void;
    let finish!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const mutating = system.mutate(
      run.id,
      { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued" },
      {
        afterCommit: async () => {
          inside();
          await new Promise<void>((resolve) => (finish = resolve));
        },
      },
    );
    await entered;
    expect((await system.latestSnapshot(run.id))?.executionStatus).toBe("PENDING_EXECUTING");
    await expect(rival.lock(run.id, async () => undefined)).rejects.toBeInstanceOf(LockAcquisitionTimeoutError);
    finish();
    const state = await mutating;
    expect(state.snapshot.executionStatus).toBe("PENDING_EXECUTING");
    expect(await rival.lock(run.id, async () => "free")).toBe("free");
  });

  test("an afterCommit error reaches the caller; the committed change stays", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    const boom = new Error("redis side effect failed");
    await expect(
      system.mutate(run.id, { executionStatus: "FINISHED", runStatus: "CANCELED", description: "cancel" }, { afterCommit: () => Promise.reject(boom) }),
    ).rejects.toBe(boom);
    expect((await system.latestSnapshot(run.id))?.executionStatus).toBe("FINISHED");
  });
});

describe("history", () => {
  test("is oldest first, valid only unless asked", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    await system.mutate(run.id, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued" });
    await expect(system.mutate(run.id, { executionStatus: "DELAYED", runStatus: "DELAYED", description: "bad" })).rejects.toThrow();
    await system.mutate(run.id, { executionStatus: "EXECUTING", runStatus: "EXECUTING", description: "attempt 1" });

    expect((await system.history(run.id)).map((s) => s.description)).toEqual(["triggered", "dequeued", "attempt 1"]);
    const all = await system.history(run.id, { includeInvalid: true });
    expect(all.map((s) => [s.description, s.isValid])).toEqual([
      ["triggered", true],
      ["dequeued", true],
      ["bad", false],
      ["attempt 1", true],
    ]);
  });
});

describe("applyMutations (the execute half, batched)", () => {
  async function planFor(runId: string, change: Parameters<typeof planMutation>[1]): Promise<MutationPlan> {
    const latest = await fixture.newSystem().latestSnapshot(runId);
    const planned = planMutation(latest!, change);
    if (planned.kind !== "write") throw planned.error;
    return planned.plan;
  }
  const dequeue = { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued" } as const;

  test("writes several runs in one transaction", async () => {
    const system = fixture.newSystem();
    const [a, b] = await Promise.all([fixture.queuedRun(system), fixture.queuedRun(system)]);
    const states = await applyMutations(fixture.prisma, [await planFor(a.run.id, dequeue), await planFor(b.run.id, dequeue)]);
    expect(states.map((s) => [s.run.id, s.run.status, s.snapshot.previousSnapshotId])).toEqual([
      [a.run.id, "DEQUEUED", a.snapshot.id],
      [b.run.id, "DEQUEUED", b.snapshot.id],
    ]);
  });

  test("refuses the whole batch when one run moved on since its plan was computed", async () => {
    const system = fixture.newSystem();
    const [a, b] = await Promise.all([fixture.queuedRun(system), fixture.queuedRun(system)]);
    const planA = await planFor(a.run.id, dequeue);
    const planB = await planFor(b.run.id, dequeue);
    // b moves on after its plan was computed (what a lost lock would allow)
    await system.mutate(b.run.id, { executionStatus: "FINISHED", runStatus: "CANCELED", description: "cancel" });

    await expect(applyMutations(fixture.prisma, [planA, planB])).rejects.toBeInstanceOf(StaleSnapshotError);
    expect(await system.latestSnapshot(a.run.id)).toEqual(a.snapshot);
    expect((await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: a.run.id } })).status).toBe("PENDING");
  });
});
