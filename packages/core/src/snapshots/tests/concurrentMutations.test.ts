import { expect, test } from "vitest";
import { LockAcquisitionTimeoutError } from "../../errors/runEngineError.ts";
import { nextInCycle, snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-concurrent");
const contenders = 50;

test(`${contenders} concurrent read-modify-write mutations of one run, each from its own locker, lose nothing`, async () => {
  const { run } = await fixture.queuedRun(fixture.newSystem(), { metadata: { counter: 0 } });
  const contestants = Array.from({ length: contenders }, () => fixture.newSystemAndLocker());

  const started = performance.now();
  const outcomes = await Promise.allSettled(
    contestants.map(({ system, locker }, index) =>
      // lock, read, decide, write: the pattern every engine system follows; mutate reuses the lock
      locker.lock(run.id, async () => {
        const latest = await system.latestSnapshot(run.id);
        if (latest === null) throw new Error("run vanished");
        const current = await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } });
        const counter = (current.metadata as { counter: number }).counter;
        return system.mutate(run.id, {
          expectedSnapshotId: latest.id,
          ...nextInCycle(latest.executionStatus),
          description: `contender ${index}`,
          attemptNumber: (latest.attemptNumber ?? 0) + 1,
          runUpdate: { metadata: { counter: counter + 1 } },
        });
      }),
    ),
  );
  const elapsedMs = performance.now() - started;

  const failures = outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => outcome.reason as unknown);
  for (const failure of failures) expect(failure).toBeInstanceOf(LockAcquisitionTimeoutError);
  const successes = contenders - failures.length;
  console.info(`${contenders} concurrent mutations: ${successes} succeeded, ${failures.length} timed out, in ${Math.round(elapsedMs)} ms`);
  expect(successes).toBeGreaterThan(0);

  const history = await contestants[0]!.system.history(run.id, { includeInvalid: true });
  expect(history).toHaveLength(successes + 1);
  history.forEach((snapshot, index) => {
    expect(snapshot.isValid).toBe(true);
    expect(snapshot.attemptNumber).toBe(index === 0 ? null : index);
    if (index === 0) return;
    const previous = history[index - 1]!;
    expect(snapshot.previousSnapshotId).toBe(previous.id);
    expect(snapshot.sequence).toBeGreaterThan(previous.sequence);
    expect({ executionStatus: snapshot.executionStatus, runStatus: snapshot.runStatus }).toEqual(nextInCycle(previous.executionStatus));
  });

  const finalRun = await fixture.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } });
  expect(finalRun.metadata).toEqual({ counter: successes });
  expect(finalRun.status).toBe(history.at(-1)!.runStatus);
});
