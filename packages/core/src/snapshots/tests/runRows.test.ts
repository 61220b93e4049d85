import { afterEach, expect, test, vi } from "vitest";
import { sqlPool } from "@runengine/database";
import { latestSnapshotRow, runWithLatestSnapshot } from "../runRows.ts";
import { snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-run-rows");

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts the statements of one name sent through the fixture's pool (they still run). */
function countStatements(name: string): () => number {
  const query = vi.spyOn(sqlPool(fixture.prisma), "query");
  return () => query.mock.calls.filter(([config]) => (config as { name?: string }).name === name).length;
}

test("reads of many runs made at once share statements, each caller getting its own run (or null)", async () => {
  const system = fixture.newSystem();
  const runs = await Promise.all(Array.from({ length: 40 }, () => fixture.queuedRun(system)));
  const statements = countStatements("re_runs_with_latest_snapshot");

  const ids = [...runs.map((run) => run.run.id), "run_that_does_not_exist", runs[0]!.run.id];
  const found = await Promise.all(ids.map((id) => runWithLatestSnapshot(fixture.prisma, id)));

  expect(statements()).toBeLessThanOrEqual(2);
  runs.forEach((run, i) => {
    expect(found[i]!.run.id).toBe(run.run.id);
    expect(found[i]!.latest.id).toBe(run.snapshot.id);
  });
  expect(found[40]).toBeNull();
  expect(found[41]!.run.id).toBe(runs[0]!.run.id);
});

test("a read issued after a change committed sees it, batched or not", async () => {
  const system = fixture.newSystem();
  const runs = await Promise.all(Array.from({ length: 10 }, () => fixture.queuedRun(system)));
  const statements = countStatements("re_latest_snapshots");

  const after = await Promise.all(
    runs.map(async ({ run }) => {
      const changed = await system.mutate(run.id, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "dequeued" });
      return { changed, read: await latestSnapshotRow(fixture.prisma, run.id) };
    }),
  );

  for (const { changed, read } of after) expect(read!.id).toBe(changed.snapshot.id);
  expect(statements()).toBeLessThan(runs.length * 2);
});
