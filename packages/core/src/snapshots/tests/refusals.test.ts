import { describe, expect, test } from "vitest";
import { InvalidTransitionError, NotFoundError, StaleSnapshotError } from "../../errors/runEngineError.ts";
import { snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-refusals");

async function everything(runId: string) {
  const [run, snapshots] = await Promise.all([
    fixture.prisma.taskRun.findUnique({ where: { id: runId } }),
    fixture.prisma.executionSnapshot.findMany({ where: { runId }, orderBy: { sequence: "asc" } }),
  ]);
  return { run, snapshots };
}

describe("a stale snapshot id", () => {
  test("is refused with StaleSnapshotError and changes nothing", async () => {
    const system = fixture.newSystem();
    const { run, snapshot: first } = await fixture.queuedRun(system);
    const { snapshot: second } = await system.mutate(run.id, {
      expectedSnapshotId: first.id,
      executionStatus: "PENDING_EXECUTING",
      runStatus: "DEQUEUED",
      description: "dequeued",
    });
    const before = await everything(run.id);

    // e.g. a heartbeat that a worker sent about the first snapshot, arriving late
    const late = system.mutate(run.id, {
      expectedSnapshotId: first.id,
      executionStatus: "QUEUED",
      runStatus: "PENDING",
      description: "requeue",
      runUpdate: { priority: 99 },
    });
    await expect(late).rejects.toBeInstanceOf(StaleSnapshotError);
    await expect(late).rejects.toMatchObject({ code: "STALE_SNAPSHOT", runId: run.id, expectedSnapshotId: first.id, latestSnapshotId: second.id });

    expect(await everything(run.id)).toEqual(before);
  });
});

describe("an invalid transition", () => {
  test("is refused, leaves the run untouched and exactly one invalid snapshot", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    const { snapshot: latest } = await system.mutate(run.id, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued" });
    const before = await everything(run.id);

    const refused = system.mutate(run.id, {
      executionStatus: "SUSPENDED",
      runStatus: "WAITING_TO_RESUME",
      description: "checkpoint before the attempt started",
      runUpdate: { metadata: { touched: true } },
    });
    await expect(refused).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(refused).rejects.toMatchObject({ runId: run.id, from: "PENDING_EXECUTING", to: "SUSPENDED" });

    const after = await everything(run.id);
    expect(after.run).toEqual(before.run);
    expect(await system.latestSnapshot(run.id)).toEqual(latest);
    expect(await system.history(run.id)).toEqual(before.snapshots);

    const added = after.snapshots.slice(before.snapshots.length);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      isValid: false,
      executionStatus: "PENDING_EXECUTING",
      runStatus: "DEQUEUED",
      description: "checkpoint before the attempt started",
      previousSnapshotId: latest.id,
    });
    expect(added[0]?.error).toContain("PENDING_EXECUTING → SUSPENDED");

    // the next valid snapshot follows the last valid one, not the refused attempt
    const { snapshot: next } = await system.mutate(run.id, { executionStatus: "EXECUTING", runStatus: "EXECUTING", description: "attempt 1" });
    expect(next.previousSnapshotId).toBe(latest.id);
  });

  test("a run status the target status cannot show is refused the same way", async () => {
    const system = fixture.newSystem();
    const { run, snapshot } = await fixture.queuedRun(system);
    await expect(system.mutate(run.id, { executionStatus: "QUEUED", runStatus: "EXECUTING", description: "bad" })).rejects.toBeInstanceOf(
      InvalidTransitionError,
    );
    expect(await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).toEqual(run);
    expect(await system.latestSnapshot(run.id)).toEqual(snapshot);
  });

  test("a finished run refuses every change", async () => {
    const system = fixture.newSystem();
    const { run } = await fixture.queuedRun(system);
    await system.mutate(run.id, { executionStatus: "FINISHED", runStatus: "EXPIRED", description: "ttl passed" });
    await expect(system.mutate(run.id, { executionStatus: "QUEUED", runStatus: "PENDING", description: "revive" })).rejects.toThrow(/FINISHED is final/);
    expect((await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("EXPIRED");
  });

  test("a run cannot be created in a status runs do not start in; nothing is written", async () => {
    const system = fixture.newSystem();
    const runsBefore = await fixture.prisma.taskRun.count();
    await expect(
      system.createRun(fixture.runData(), { executionStatus: "EXECUTING", runStatus: "EXECUTING", description: "skip the queue" }),
    ).rejects.toBeInstanceOf(InvalidTransitionError);
    expect(await fixture.prisma.taskRun.count()).toBe(runsBefore);
  });
});

test("a run that does not exist is NotFoundError, and nothing is written", async () => {
  const system = fixture.newSystem();
  const snapshotsBefore = await fixture.prisma.executionSnapshot.count();
  await expect(system.mutate("run_missing", { executionStatus: "QUEUED", runStatus: "PENDING", description: "x" })).rejects.toBeInstanceOf(
    NotFoundError,
  );
  expect(await fixture.prisma.executionSnapshot.count()).toBe(snapshotsBefore);
});
