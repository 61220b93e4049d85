import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { roles } from "@runengine/testing";
import { ChaosRig } from "./chaosFixture.ts";

const runCount = 500;
let rig: ChaosRig;
beforeAll(async () => {
  rig = await ChaosRig.start("chaos_kill", { replicas: Object.fromEntries(roles.map((role) => [role, 2])) });
  await Promise.all([rig.startWorker("worker-a", 10), rig.startWorker("worker-b", 10)]);
});
afterAll(async () => {
  await rig?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("every role SIGKILLed and restarted during a load, two replicas of each", () => {
  test(`all ${runCount} runs reach a final state, none runs two attempts at once, no slot is left held`, { timeout: 480_000 }, async () => {
    const { e } = rig;
    const first = await rig.triggerTracked(100, { ms: 30 }, "kill-first");
    // The rest arrives while the roles die one after another.
    const rest = rig.triggerTracked(runCount - 100, { ms: 30 }, "kill-rest");
    const killed: string[] = [];
    for (const role of roles) {
      const name = `${role}-0`;
      await e.engine.kill(name, "SIGKILL");
      killed.push(name);
      await sleep(300);
      await e.engine.start(name);
    }
    const runIds = [...first, ...(await rest)];
    expect(new Set(runIds).size).toBe(runCount);

    await rig.waitAllFinished(runIds, 300_000);
    await rig.expectInvariants(runIds);
    const statuses = await e.db.prisma.taskRun.groupBy({ by: ["status"], where: { id: { in: runIds } }, _count: true });
    console.info(`after killing ${killed.join(", ")}: ${statuses.map((s) => `${s.status} ${s._count}`).join(", ")}`);
  });
});
