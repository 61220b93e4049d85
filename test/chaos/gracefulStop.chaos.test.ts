import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { roles } from "@runengine/testing";
import { ChaosRig } from "./chaosFixture.ts";

const runCount = 200;
let rig: ChaosRig;
beforeAll(async () => {
  rig = await ChaosRig.start("chaos_sigterm");
  // A grace shorter than the runs: the stopping worker must hand back what it still runs.
  await rig.startWorker("leaving", 10, { RUNENGINE_WORKER_SHUTDOWN_GRACE_MS: "200" });
  await rig.startWorker("staying", 10);
});
afterAll(async () => {
  await rig?.close();
});

describe("a worker and then every role stopped with SIGTERM during a load, one replica each", () => {
  test(`each exits 0; all ${runCount} runs finish, the worker's unfinished runs handed back and run elsewhere`, { timeout: 300_000 }, async () => {
    const { e } = rig;
    const runIds = await rig.triggerTracked(runCount, { ms: 800 }, "sigterm");
    const leaving = e.workers.find((worker) => worker.name.endsWith("leaving"))!;
    const leavingWorkerId = registeredWorkerId(leaving.output());
    // Stopped while attempts it started in the last 300 ms run: after the 200 ms grace, each still
    // has ~300 ms of its 800 to go, so the worker must hand them back (stopped later, a wave about
    // to end could all finish within the grace, and nothing would be handed back).
    const freshAttempts = () =>
      e.db.prisma.executionSnapshot.count({
        where: { workerId: leavingWorkerId, executionStatus: "EXECUTING", createdAt: { gte: new Date(Date.now() - 300) } },
      });
    await expect.poll(freshAttempts, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0);
    leaving.child.kill("SIGTERM");
    expect(await leaving.exited).toBe(0);
    for (const role of roles) {
      const name = `${role}-0`;
      const stopped = e.engine.processes.get(name)!;
      await e.engine.kill(name, "SIGTERM");
      expect({ name, exit: await stopped.exited }).toEqual({ name, exit: 0 });
      await e.engine.start(name);
    }

    await rig.waitAllFinished(runIds, 240_000);
    await rig.expectInvariants(runIds);
    const statuses = await e.db.prisma.taskRun.groupBy({ by: ["status"], where: { id: { in: runIds } }, _count: true });
    expect(statuses).toEqual([{ status: "COMPLETED_SUCCESSFULLY", _count: runCount }]);
    const handedBack = await e.db.prisma.executionSnapshot.count({
      where: { runId: { in: runIds }, description: { contains: "handed back by its stopping worker" } },
    });
    console.info(`SIGTERM of a worker and ${roles.join(", ")}: ${handedBack} attempts handed back`);
    expect(handedBack).toBeGreaterThan(0);
  });
});

function registeredWorkerId(workerOutput: string): string {
  const registered = workerOutput.split("\n").find((line) => line.includes('"worker:registered"'));
  const workerId = registered ? (JSON.parse(registered) as { workerId?: string }).workerId : undefined;
  if (!workerId) throw new Error(`no worker:registered line with a workerId in:\n${workerOutput}`);
  return workerId;
}
