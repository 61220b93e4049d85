import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitFor } from "../e2e/engineFixture.ts";
import { ChaosRig } from "./chaosFixture.ts";

let rig: ChaosRig;
beforeAll(async () => {
  rig = await ChaosRig.start("chaos_frozen");
});
afterAll(async () => {
  await rig?.close();
});

describe("a worker frozen (SIGSTOP) past its heartbeat deadline, then resumed (SIGCONT)", () => {
  test("the retried attempt's result stands, the stale attempt is told to stop, and its late report is refused", async () => {
    const { e } = rig;
    const frozen = await rig.startWorker("frozen", 1);
    // The first attempt holds long enough to be frozen in the middle; a retry is quick.
    const [runId] = await rig.triggerTracked(1, { ms: 50, firstAttemptMs: 60_000 }, "frozen");
    const id = runId as string;
    await waitFor(async () => (await e.redis.lrange(`${rig.observations}started:${id}`, 0, -1)).includes("1"), 60_000);

    frozen.child.kill("SIGSTOP");
    try {
      await rig.startWorker("healthy", 1);
      await rig.waitAllFinished([id], 90_000);
    } finally {
      frozen.child.kill("SIGCONT");
    }

    const run = await e.client.runs.retrieve(id);
    expect(run).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { attempt: 2 } });
    // Resumed, the frozen worker's next heartbeat hears that the run moved on: the task's signal fires.
    await waitFor(async () => (await e.redis.lrange(`${rig.observations}aborted:${id}`, 0, -1)).includes("1"), 60_000);

    // Its report of attempt 1, sent now, is refused by the snapshot check and changes nothing.
    const firstAttempt = await e.db.prisma.executionSnapshot.findFirstOrThrow({
      where: { runId: id, executionStatus: "EXECUTING", attemptNumber: 1, isValid: true },
    });
    const late = await fetch(`${e.engine.apiUrl}/api/v1/worker/runs/${id}/complete`, {
      method: "POST",
      headers: { authorization: `Bearer ${e.environment.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ workerId: firstAttempt.workerId, snapshotId: firstAttempt.id, result: { ok: true, output: { attempt: 1 } } }),
    });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("STALE_SNAPSHOT");
    expect(await e.client.runs.retrieve(id)).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { attempt: 2 } });

    const history = await e.client.runs.history(id);
    expect(history.snapshots.filter((s) => s.executionStatus === "EXECUTING").map((s) => s.attemptNumber)).toEqual([1, 2]);
    await rig.expectInvariants([id], { checkWorkerOverlap: false });
  });
});
