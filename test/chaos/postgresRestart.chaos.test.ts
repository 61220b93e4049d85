import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startLocalPostgres, type LocalPostgres } from "@runengine/testing";
import { waitFor } from "../e2e/engineFixture.ts";
import { ChaosRig } from "./chaosFixture.ts";

const runCount = 200;
let postgres: LocalPostgres;
let rig: ChaosRig;
beforeAll(async () => {
  // A server of this test's own: restarting it disturbs no other test.
  postgres = await startLocalPostgres("chaos");
  rig = await ChaosRig.start("chaos_pg_restart", { database: postgres.database });
  await rig.startWorker("worker", 10);
});
afterAll(async () => {
  await rig?.close();
  await postgres?.destroy();
});

describe("Postgres restarted during a load", () => {
  test(`the roles reconnect on their own and all ${runCount} runs reach a final state`, { timeout: 480_000 }, async () => {
    const { e } = rig;
    const runIds = await rig.triggerTracked(runCount, { ms: 30 }, "pg");
    await waitFor(async () => (await e.db.prisma.taskRun.count({ where: { completedAt: { not: null } } })) >= 20, 120_000, 200);

    await postgres.restart();
    const restartedAt = Date.now();

    await rig.waitAllFinished(runIds, 300_000);
    await rig.expectInvariants(runIds);
    for (const [name, process] of e.engine.processes) expect(process.child.exitCode, `${name} exited`).toBeNull();
    const statuses = await e.db.prisma.taskRun.groupBy({ by: ["status"], where: { id: { in: runIds } }, _count: true });
    console.info(`${Date.now() - restartedAt} ms after the restart: ${statuses.map((s) => `${s.status} ${s._count}`).join(", ")}`);
  });
});
