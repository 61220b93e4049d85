import { RunEngineApiError } from "@runengine/sdk";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * The scheduler role seen by a user: delayed runs (through a scheduler restart), reschedules,
 * cancels of delayed runs, TTL expiry behind a full queue, and debounce, with the real processes
 * and a real worker process.
 */
let e: E2EEngine;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_scheduler", { HEARTBEAT_MONITOR_INTERVAL_MS: "200" });
  await e.startWorker("worker", 10);
  // one run through every process first: the timings below are not about first-query costs
  await e.client.runs.poll((await e.client.trigger("echo", { value: 0 })).id, { intervalMs: 100, timeoutMs: 60_000 });
});
afterAll(async () => {
  await e?.close();
});

const poll = (id: string) => e.client.runs.poll(id, { intervalMs: 100, timeoutMs: 60_000 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const descriptions = async (id: string) => (await e.client.runs.history(id)).snapshots.map((s) => s.description);
/** How long after its due time the run's first attempt started. */
const startLagMs = (run: { startedAt: Date | null; delayUntil: Date | null }) => run.startedAt!.getTime() - run.delayUntil!.getTime();

describe("scheduler end to end", () => {
  test("a delayed run starts within 1 s of its due time although the scheduler was killed and restarted during the delay", async () => {
    await waitFor(() => e.engine.processes.get("scheduler-0")!.output().includes("service:started"), 60_000);
    const { id } = await e.client.trigger("echo", { value: 1 }, { delay: "20s" });
    expect((await e.client.runs.retrieve(id)).status).toBe("DELAYED");
    await e.engine.kill("scheduler-0", "SIGKILL");
    const restarted = await e.engine.start("scheduler-0");
    await waitFor(() => restarted.output().includes("service:started"), 60_000);
    // A new process's first queries pay one-time costs (about a second on a loaded machine); a
    // short delayed run through the restarted scheduler pays them before the measured due time.
    await poll((await e.client.trigger("echo", { value: -1 }, { delay: "100ms" })).id);
    const schedulerWarmAt = Date.now();
    const dueAt = (await e.client.runs.retrieve(id)).delayUntil!.getTime();
    expect((await e.client.runs.retrieve(id)).status).toBe("DELAYED");
    // on a machine so loaded that the restart outlasted the delay, the promise is "at once after it is back"
    if (schedulerWarmAt > dueAt) console.log(`the scheduler took until ${schedulerWarmAt - dueAt} ms past the due time to restart`);

    const run = await poll(id);
    expect(run).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { echoed: 1 } });
    const queuedAt = (await e.client.runs.history(id)).snapshots[1]!.createdAt.getTime();
    console.log(`delayed run across a scheduler restart: queued ${queuedAt - dueAt} ms and started ${startLagMs(run)} ms after its due time`);
    expect(startLagMs(run)).toBeGreaterThanOrEqual(0);
    expect(run.startedAt!.getTime() - Math.max(dueAt, schedulerWarmAt)).toBeLessThan(1_000);
    const history = await descriptions(id);
    expect(history[0]).toBe(`Delayed until ${run.delayUntil!.toISOString()}`);
    expect(history[1]).toBe(`Due (delayed until ${run.delayUntil!.toISOString()}); queued`);
  });

  test("reschedule later, then earlier: the run starts at the last due time", async () => {
    const { id } = await e.client.trigger("echo", { value: 2 }, { delay: "3s" });
    const later = await e.client.runs.reschedule(id, { delay: "1m" });
    expect(later.status).toBe("DELAYED");
    await sleep(3_500);
    expect((await e.client.runs.retrieve(id)).status).toBe("DELAYED");

    const earlierAt = new Date(Date.now() + 1_000);
    const earlier = await e.client.runs.reschedule(id, { delay: earlierAt.toISOString() });
    expect(earlier.delayUntil).toEqual(earlierAt);
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    console.log(`rescheduled run: started ${startLagMs(run)} ms after its due time`);
    // the moved job fired at the new time, not the first or the second (the 1 s promise is the first test's)
    expect(startLagMs(run)).toBeGreaterThanOrEqual(0);
    expect(startLagMs(run)).toBeLessThan(3_000);
    const history = await descriptions(id);
    expect(history.slice(1, 3)).toEqual([`Rescheduled to ${later.delayUntil!.toISOString()}`, `Rescheduled to ${earlierAt.toISOString()}`]);
  });

  test("reschedule refuses a run that is not DELAYED (409) and a bad delay (400)", async () => {
    const { id } = await e.client.trigger("echo", { value: 3 });
    await poll(id);
    await expect(e.client.runs.reschedule(id, { delay: "1m" })).rejects.toMatchObject({ status: 409, code: "CONFLICT" });
    const delayed = await e.client.trigger("echo", { value: 3 }, { delay: "1m" });
    const refused = await e.client.runs.reschedule(delayed.id, { delay: "soon" }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RunEngineApiError);
    expect(refused).toMatchObject({ status: 400, code: "VALIDATION", field: "delay" });
    await e.client.runs.cancel(delayed.id);
  });

  test("cancelling a delayed run finishes it CANCELED, and it never runs", async () => {
    const { id } = await e.client.trigger("echo", { value: 4 }, { delay: "2s" });
    expect(await e.client.runs.cancel(id)).toEqual({ id, status: "CANCELED" });
    await sleep(3_000);
    const run = await e.client.runs.retrieve(id);
    expect(run).toMatchObject({ status: "CANCELED", startedAt: null, attemptCount: 0 });
    expect((await e.client.runs.history(id)).snapshots.map((s) => s.executionStatus)).toEqual(["DELAYED", "FINISHED"]);
  });

  test("TTL: a run stuck behind a full queue (limit 1, held by a long run) expires; the long run is untouched", async () => {
    // "ordered" has a concurrency limit of 1; the long run takes its only slot
    const long = await e.client.trigger("wait-for-abort", { ms: 30_000 }, { queue: "ordered" });
    await waitFor(async () => (await e.client.runs.retrieve(long.id)).status === "EXECUTING", 20_000);
    const stuck = await e.client.trigger("echo", { value: 5 }, { queue: "ordered", ttl: "2s" });

    const expired = await poll(stuck.id);
    expect(expired).toMatchObject({ status: "EXPIRED", startedAt: null, error: { name: "TtlExpired", message: "Run not started within ttl 2s" } });
    console.log(`ttl 2s: expired ${expired.completedAt!.getTime() - expired.expiresAt!.getTime()} ms after its expiry time`);
    expect(expired.completedAt!.getTime() - expired.expiresAt!.getTime()).toBeLessThan(2_000);
    expect((await descriptions(stuck.id)).at(-1)).toBe("Expired: not started within ttl 2s");
    expect((await e.client.runs.retrieve(long.id)).status).toBe("EXECUTING");
    expect(await e.runQueue.stats({ envId: e.environment.id, queue: "ordered" })).toMatchObject({ queued: 0, inFlight: 1 });

    // a run that starts within its ttl is never expired
    await e.client.runs.cancel(long.id);
    const inTime = await e.client.trigger("echo", { value: 6 }, { queue: "ordered", ttl: "3s" });
    await sleep(3_500);
    expect(await poll(inTime.id)).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { echoed: 6 } });
  });

  test("debounce: 50 concurrent triggers make one run; the last trigger's payload is the one that runs", async () => {
    const burstStartedAt = Date.now();
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, value) => e.client.trigger("echo", { value }, { debounce: { key: "burst", delay: "2s" } })),
    );
    console.log(`50 concurrent debounced triggers answered in ${Date.now() - burstStartedAt} ms`);
    const ids = new Set(burst.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(burst.filter((r) => !r.isCached)).toHaveLength(1);
    const last = await e.client.trigger("echo", { value: 999 }, { debounce: { key: "burst", delay: "2s" } });
    expect(ids.has(last.id)).toBe(true);

    const run = await poll(last.id);
    expect(run).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { echoed: 999 } });
    expect(startLagMs(run)).toBeLessThan(3_000);
    expect((await e.client.runs.list({ taskId: "echo", limit: 100 })).data.filter((r) => r.createdAt >= run.createdAt)).toHaveLength(1);
    const pushes = (await descriptions(last.id)).filter((d) => d.startsWith("Debounced"));
    expect(pushes.at(-1)).toMatch(/^Debounced: due time moved to .*; payload of this trigger$/);
  });

  test("debounce leading: the first trigger's payload runs", async () => {
    const first = await e.client.trigger("echo", { value: 1 }, { debounce: { key: "leading", delay: "1s", mode: "leading" } });
    for (const value of [2, 3]) {
      expect((await e.client.trigger("echo", { value }, { debounce: { key: "leading", delay: "1s", mode: "leading" } })).id).toBe(first.id);
    }
    expect(await poll(first.id)).toMatchObject({ status: "COMPLETED_SUCCESSFULLY", output: { echoed: 1 } });
  });

  test("debounce maxDelay: steady triggers cannot push the run past first trigger + maxDelay; later ones open a new window", async () => {
    const options = { debounce: { key: "steady", delay: "1s", maxDelay: "2500ms" } };
    const firstAt = Date.now();
    const ids: string[] = [];
    while (Date.now() < firstAt + 4_500) {
      ids.push((await e.client.trigger("echo", { value: ids.length }, options)).id);
      await sleep(300);
    }
    const runs = [...new Set(ids)];
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const first = await poll(runs[0]!);
    expect(first.status).toBe("COMPLETED_SUCCESSFULLY");
    const window = (await e.client.runs.history(first.id)).snapshots[0]!.createdAt.getTime();
    console.log(`debounce maxDelay 2.5s under steady triggers: first run started ${first.startedAt!.getTime() - window} ms after the window opened`);
    expect(first.delayUntil!.getTime() - window).toBeLessThanOrEqual(2_500);
    expect(first.startedAt!.getTime() - window).toBeLessThan(2_500 + 3_000);
    for (const id of runs.slice(1)) expect((await poll(id)).status).toBe("COMPLETED_SUCCESSFULLY");
  });
});
