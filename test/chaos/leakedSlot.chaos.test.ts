import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort } from "@runengine/testing";
import { waitFor } from "../e2e/engineFixture.ts";
import { ChaosRig } from "./chaosFixture.ts";

let rig: ChaosRig;
let metricsUrl: string;
beforeAll(async () => {
  const healthPort = await freePort();
  metricsUrl = `http://127.0.0.1:${healthPort}/metrics`;
  rig = await ChaosRig.start("chaos_leak", { env: { HEARTBEAT_MONITOR_HEALTH_PORT: String(healthPort), RECONCILE_INTERVAL_MS: "3000" } });
  await rig.startWorker("worker", 5);
});
afterAll(async () => {
  await rig?.close();
});

async function repairs(kind: string): Promise<number> {
  const body = await (await fetch(metricsUrl)).text();
  const line = body.split("\n").find((l) => l.startsWith(`runengine_reconciler_repairs_total{kind="${kind}"}`));
  return line ? Number(line.split(" ").pop()) : 0;
}

describe("a leaked concurrency slot", () => {
  test("blocks its queue only until the continuous reconciler frees it, within 60 s, and is counted", async () => {
    const { e } = rig;
    const [finished] = await rig.triggerTracked(1, { ms: 10 }, "before-leak");
    await rig.waitAllFinished([finished as string], 30_000);
    await waitFor(async () => (await e.runQueue.stats({ envId: e.environment.id })).inFlight === 0, 10_000);
    await e.runQueue.setConcurrencyLimit({ envId: e.environment.id, limit: 1 });
    // The leak, made on purpose through the run queue: the finished run back in flight, holding
    // the environment's only slot, as a lost ack would leave it.
    await e.runQueue.restoreInFlight({ runId: finished as string, orgId: "org", envId: e.environment.id, queue: "chaos-tracked", consumerId: "gone" });
    expect(await e.runQueue.stats({ envId: e.environment.id })).toMatchObject({ inFlight: 1, limit: 1 });
    const leakedAt = Date.now();

    const [blocked] = await rig.triggerTracked(1, { ms: 10 }, "behind-leak");
    await rig.waitAllFinished([blocked as string], 60_000);
    const repairedWithin = Date.now() - leakedAt;

    expect(repairedWithin).toBeLessThan(60_000);
    expect(await repairs("leaked-slot")).toBe(1);
    await rig.expectInvariants([finished as string, blocked as string]);
  });
});
