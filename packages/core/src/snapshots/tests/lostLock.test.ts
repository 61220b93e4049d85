import { expect, test } from "vitest";
import { StaleSnapshotError } from "../../errors/runEngineError.ts";
import { applyMutations } from "../applyMutations.ts";
import { planMutation } from "../planMutation.ts";
import { snapshotFixture } from "./snapshotFixture.ts";

const fixture = snapshotFixture("snapshots-lost-lock");

test("two holders that both believe they hold the run's lock (one lost it) cannot both write from the same snapshot", async () => {
  const system = fixture.newSystem();
  const { snapshot } = await fixture.queuedRun(system);
  // Both plans were computed from the same newest snapshot, as two holders of an expired lock
  // would; they race to commit with no lock between them.
  const plans = ["PENDING_EXECUTING", "FINISHED"].map((executionStatus) => {
    const planned = planMutation(snapshot, {
      expectedSnapshotId: snapshot.id,
      executionStatus: executionStatus as "PENDING_EXECUTING" | "FINISHED",
      runStatus: executionStatus === "FINISHED" ? "CANCELED" : "DEQUEUED",
      description: `holder writing ${executionStatus}`,
    });
    if (planned.kind !== "write") throw new Error(`unexpected plan ${planned.kind}`);
    return planned.plan;
  });
  for (let round = 0; round < 5; round++) {
    const { snapshot: start } = await fixture.queuedRun(system);
    const racing = plans.map((plan) => ({ ...plan, runId: start.runId, basedOnSnapshotId: start.id, snapshot: { ...plan.snapshot, runId: start.runId, previousSnapshotId: start.id } }));
    const outcomes = await Promise.allSettled(racing.map((plan) => applyMutations(fixture.prisma, [plan])));
    const rejected = outcomes.filter((outcome) => outcome.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(StaleSnapshotError);
    expect(await system.history(start.runId)).toHaveLength(2);
  }
});
