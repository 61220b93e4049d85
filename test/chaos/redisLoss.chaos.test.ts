import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { waitFor } from "../e2e/engineFixture.ts";
import { ChaosRig, loseRedisKeys } from "./chaosFixture.ts";

const runCount = 500;
let rig: ChaosRig;
beforeAll(async () => {
  rig = await ChaosRig.start("chaos_redis_loss");
  await Promise.all([rig.startWorker("worker-a", 10), rig.startWorker("worker-b", 10)]);
});
afterAll(async () => {
  await rig?.close();
});

describe("Redis loses the engine's data during a load", () => {
  test(`the queue is rebuilt from Postgres and all ${runCount} runs still reach a final state, none twice at once`, { timeout: 480_000 }, async () => {
    const { e } = rig;
    const marker = e.runQueue.keys.builtMarker();
    const first = await rig.triggerTracked(200, { ms: 30 }, "loss-first");
    const rest = rig.triggerTracked(runCount - 200, { ms: 30 }, "loss-rest");
    await waitFor(async () => (await e.db.prisma.taskRun.count({ where: { completedAt: { not: null } } })) >= 50, 120_000, 200);

    // Everything the engine keeps in Redis goes: queue, slots, counters, heartbeats, locks, jobs.
    await loseRedisKeys(e.redis, e.prefix);
    const lostAt = Date.now();
    const atLoss = await e.db.prisma.taskRun.groupBy({ by: ["status"], _count: true });

    // The reconciler notices (no record of a build) and rebuilds the queue from Postgres.
    await waitFor(async () => (await e.redis.get(marker)) === "built", 60_000, 200);
    const rebuiltAfterMs = Date.now() - lostAt;

    const runIds = [...first, ...(await rest)];
    await rig.waitAllFinished(runIds, 300_000);
    await rig.expectInvariants(runIds);
    const statuses = await e.db.prisma.taskRun.groupBy({ by: ["status"], where: { id: { in: runIds } }, _count: true });
    console.info(
      `Redis wiped with runs ${atLoss.map((s) => `${s.status} ${s._count}`).join(", ")}; rebuilt after ${rebuiltAfterMs} ms; ` +
        `final: ${statuses.map((s) => `${s.status} ${s._count}`).join(", ")}`,
    );
    expect(statuses.every((s) => s.status === "COMPLETED_SUCCESSFULLY")).toBe(true);
  });
});
