import { expect, test } from "vitest";
import { sqlPool, type SqlPool } from "@runengine/database";
import { NotFoundError, StaleSnapshotError } from "../../errors/runEngineError.ts";
import { MutationWriter } from "../mutationWriter.ts";
import { planMutation } from "../planMutation.ts";
import type { MutationPlan, RunState } from "../types.ts";
import { snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-writer");

/** The pool, counting the run-writing statements sent through it. */
function countingPool(): { pool: SqlPool; statements: () => number } {
  const pool = sqlPool(fixture.prisma);
  let statements = 0;
  const counted = new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== "query") return Reflect.get(target, property, receiver) as unknown;
      return (config: { name?: string }, ...rest: unknown[]) => {
        if (config.name?.startsWith("re_write_runs_")) statements += 1;
        return (target.query as (...args: unknown[]) => unknown).call(target, config, ...rest);
      };
    },
  });
  return { pool: counted, statements: () => statements };
}

async function queuedRuns(count: number): Promise<RunState[]> {
  const system = fixture.newSystem();
  return Promise.all(Array.from({ length: count }, () => fixture.queuedRun(system)));
}

function dequeuePlan({ snapshot }: RunState, description = "dequeued"): MutationPlan {
  const planned = planMutation(snapshot, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description });
  if (planned.kind !== "write") throw new Error(`expected a write, got ${planned.kind}`);
  return planned.plan;
}

test("changes of different runs made at once share statements, and each run gets its own new state", async () => {
  const runs = await queuedRuns(30);
  const { pool, statements } = countingPool();
  const writer = new MutationWriter(pool, { maxInFlight: 1 });

  const states = await Promise.all(runs.map((run) => writer.write(dequeuePlan(run))));

  expect(statements()).toBeLessThanOrEqual(2);
  states.forEach((state, i) => {
    expect(state.run.id).toBe(runs[i]!.run.id);
    expect(state.run.status).toBe("DEQUEUED");
    expect(state.run.latestSnapshotId).toBe(state.snapshot.id);
    expect(state.snapshot).toMatchObject({ executionStatus: "PENDING_EXECUTING", previousSnapshotId: runs[i]!.snapshot.id, isValid: true });
  });
  const stored = await fixture.prisma.executionSnapshot.count({ where: { runId: { in: runs.map((run) => run.run.id) }, executionStatus: "PENDING_EXECUTING" } });
  expect(stored).toBe(30);
});

test("a stale or missing run in a shared statement is refused alone; the others commit", async () => {
  const [moved, fine, alsoFine] = await queuedRuns(3);
  const system = fixture.newSystem();
  const movedOn = await system.mutate(moved!.run.id, { executionStatus: "PENDING_EXECUTING", runStatus: "DEQUEUED", description: "elsewhere" });
  const missing: MutationPlan = { ...dequeuePlan(fine!), runId: "run_that_does_not_exist" };
  const writer = new MutationWriter(countingPool().pool, { maxInFlight: 1 });

  const outcomes = await Promise.allSettled([dequeuePlan(moved!), dequeuePlan(fine!), missing, dequeuePlan(alsoFine!)].map((plan) => writer.write(plan)));

  expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "fulfilled", "rejected", "fulfilled"]);
  const stale = (outcomes[0] as PromiseRejectedResult).reason as StaleSnapshotError;
  expect(stale).toBeInstanceOf(StaleSnapshotError);
  expect(stale.latestSnapshotId).toBe(movedOn.snapshot.id);
  expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
  expect((await system.latestSnapshot(moved!.run.id))!.id).toBe(movedOn.snapshot.id);
});

test("a change that breaks a constraint fails alone: the statement is retried without it", async () => {
  const [broken, fine] = await queuedRuns(2);
  const { pool, statements } = countingPool();
  const writer = new MutationWriter(pool, { maxInFlight: 1 });
  // a completed waitpoint that does not exist: the snapshot's waitpoint row breaks its foreign key
  const brokenPlan = dequeuePlan(broken!);
  brokenPlan.snapshot.completedWaitpointIds = ["waitpoint_that_does_not_exist"];
  const finePlan = dequeuePlan(fine!);
  finePlan.snapshot.completedWaitpointIds = [];

  const outcomes = await Promise.allSettled([writer.write(brokenPlan), writer.write(finePlan)]);

  expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "fulfilled"]);
  expect(statements()).toBe(3);
  expect((await fixture.newSystem().latestSnapshot(broken!.run.id))!.id).toBe(broken!.snapshot.id);
});

test("two changes of one run (a lost lock) never share a statement: the second is refused by the fence", async () => {
  const [run] = await queuedRuns(1);
  const writer = new MutationWriter(countingPool().pool, { maxInFlight: 1 });

  const outcomes = await Promise.allSettled([writer.write(dequeuePlan(run!, "first")), writer.write(dequeuePlan(run!, "second"))]);

  expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected"]);
  expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(StaleSnapshotError);
  const history = await fixture.newSystem().history(run!.run.id, { includeInvalid: true });
  expect(history.map((snapshot) => snapshot.description)).toEqual(["triggered", "first"]);
});
