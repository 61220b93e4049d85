import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createClient } from "@runengine/sdk";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * A user's view: the real processes, two worker processes, runs triggered over HTTP through the
 * SDK client, watched until they finish.
 */
let e: E2EEngine;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_runs", {
    // above the workers' 2 s heartbeat interval with room for a loaded CI machine
    HEARTBEAT_EXECUTING_TIMEOUT_MS: "6000",
    HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: "15000",
    HEARTBEAT_PENDING_CANCEL_TIMEOUT_MS: "3000",
    HEARTBEAT_MONITOR_INTERVAL_MS: "200",
  });
  await e.startWorker("worker-a");
  await e.startWorker("worker-b");
});
afterAll(async () => {
  await e?.close();
});

// Polling every run at once is the test's own load on the api: keep it modest.
const poll = (id: string) => e.client.runs.poll(id, { intervalMs: 250, timeoutMs: 90_000 });
const statusesOf = async (id: string) => (await e.client.runs.history(id)).snapshots.map((s) => s.executionStatus);

/** Slots held in the run queue; a final state releases its slot right after it commits. */
async function slotsHeld(): Promise<number> {
  return (await e.runQueue.stats({ envId: e.environment.id })).inFlight;
}

describe("runs end to end", () => {
  test("200 runs over two workers all complete, each with its output and a four-step history", async () => {
    const triggered = await Promise.all(Array.from({ length: 200 }, (_, value) => e.client.trigger("echo", { value })));
    const runs = await Promise.all(triggered.map(({ id }) => poll(id)));
    runs.forEach((run, value) => {
      expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
      expect(run.output).toEqual({ echoed: value });
    });
    const histories = await Promise.all(triggered.map(({ id }) => e.client.runs.history(id)));
    for (const history of histories) {
      expect(history.snapshots.map((s) => s.executionStatus)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "FINISHED"]);
    }
    const workersUsed = new Set(histories.map((h) => h.snapshots[2]?.workerId));
    expect(workersUsed.size).toBe(2);
    await expect.poll(slotsHeld, { timeout: 10_000 }).toBe(0);
  });

  test("a task that returns nothing completes successfully, with no output", async () => {
    const { id } = await e.client.trigger("fire-and-forget", { key: "void" });
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.output).toBeNull();
    expect(await e.redis.get(`${e.prefix}fired:void`)).toBe("1");
    expect(await statusesOf(id)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "FINISHED"]);
  });

  test("outputs that together pass the api's body limit all arrive; one over it fails its run for good", async () => {
    const kib = 1024;
    const { runs } = await e.client.batchTrigger("large-output", Array.from({ length: 8 }, () => ({ payload: { bytes: 300 * kib } })));
    const finished = await Promise.all(runs.map(({ id }) => poll(id)));
    for (const run of finished) {
      expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
      expect((run.output as { blob: string }).blob).toHaveLength(300 * kib);
    }

    const { id } = await e.client.trigger("large-output", { bytes: 2 * kib * kib });
    const tooLarge = await poll(id);
    expect(tooLarge.status).toBe("COMPLETED_WITH_ERRORS");
    expect(tooLarge.error).toMatchObject({ name: "OutputTooLargeError" });
    expect(tooLarge.attemptCount).toBe(1);
  });

  test("a queue limit of 3 across two workers: the task code sees exactly 3 running at once, never more", async () => {
    const triggered = await Promise.all(Array.from({ length: 15 }, () => e.client.trigger("concurrency-probe", { holdMs: 300 })));
    const runs = await Promise.all(triggered.map(({ id }) => poll(id)));
    expect(runs.every((run) => run.status === "COMPLETED_SUCCESSFULLY")).toBe(true);
    expect(Number(await e.redis.zscore(`${e.prefix}probe:max`, "max"))).toBe(3);
  });

  test("a queue limit of 2 holds per concurrency key: each key runs 2 at once, two keys 4", async () => {
    const triggered = await Promise.all(
      ["a", "b"].flatMap((key) => Array.from({ length: 4 }, () => e.client.trigger("keyed-probe", { key, holdMs: 800 }, { concurrencyKey: key }))),
    );
    for (const run of await Promise.all(triggered.map(({ id }) => poll(id)))) expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    const max = async (member: string) => Number(await e.redis.zscore(`${e.prefix}keyed:max`, member));
    expect([await max("a"), await max("b"), await max("all")]).toEqual([2, 2, 4]);
  });

  test("an environment's concurrency limit caps its runs below its queues' limits", async () => {
    const limited = await e.createEnvironment("limited", { concurrencyLimit: 2 });
    await e.startWorker("limited-worker", 10, { apiKey: limited.apiKey });
    const client = createClient({ apiUrl: e.engine.apiUrl, apiKey: limited.apiKey });
    await e.redis.del(`${e.prefix}probe:max`);
    // the probe's queue allows 3 at once; the environment, 2
    const triggered = await Promise.all(Array.from({ length: 6 }, () => client.trigger("concurrency-probe", { holdMs: 500 })));
    for (const { id } of triggered) expect((await client.runs.poll(id, { intervalMs: 250, timeoutMs: 60_000 })).status).toBe("COMPLETED_SUCCESSFULLY");
    expect(Number(await e.redis.zscore(`${e.prefix}probe:max`, "max"))).toBe(2);
  });

  test("queues over the client: a paused queue holds its runs until resumed; a limit set over HTTP binds the workers", async () => {
    expect((await e.client.queues.list()).find((queue) => queue.name === "probe")).toMatchObject({ limit: 3, declaredLimit: 3, paused: false });

    expect(await e.client.queues.pause("probe")).toMatchObject({ name: "probe", paused: true });
    const held = await Promise.all(Array.from({ length: 3 }, () => e.client.trigger("concurrency-probe", { holdMs: 50 })));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const { id } of held) expect((await e.client.runs.retrieve(id)).status).toBe("PENDING");
    expect((await e.client.queues.list()).find((queue) => queue.name === "probe")).toMatchObject({ queued: 3, inFlight: 0 });
    await e.client.queues.resume("probe");
    for (const run of await Promise.all(held.map(({ id }) => poll(id)))) expect(run.status).toBe("COMPLETED_SUCCESSFULLY");

    await e.redis.del(`${e.prefix}probe:max`);
    expect(await e.client.queues.setConcurrencyLimit("probe", 1)).toMatchObject({ limit: 1, limitOverridden: true });
    const serial = await Promise.all(Array.from({ length: 4 }, () => e.client.trigger("concurrency-probe", { holdMs: 200 })));
    for (const run of await Promise.all(serial.map(({ id }) => poll(id)))) expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(Number(await e.redis.zscore(`${e.prefix}probe:max`, "max"))).toBe(1);
    await e.client.queues.setConcurrencyLimit("probe", 3);
  });

  test("a task that fails twice then succeeds ends on attempt 3, with the backoff gaps respected", async () => {
    const { id } = await e.client.trigger("flaky", { failures: 2 });
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.attemptCount).toBe(3);
    expect(run.output).toEqual({ succeededOnAttempt: 3 });
    const starts = (await e.redis.lrange(`${e.prefix}attempts:${id}`, 0, -1)).map(Number);
    expect(starts).toHaveLength(3);
    // minTimeoutInMs 500, factor 2, no randomization: 500 ms, then 1,000 ms
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(500);
    expect(starts[2]! - starts[1]!).toBeGreaterThanOrEqual(1_000);
    expect(await statusesOf(id)).toEqual([
      "QUEUED", "PENDING_EXECUTING", "EXECUTING",
      "QUEUED", "PENDING_EXECUTING", "EXECUTING",
      "QUEUED", "PENDING_EXECUTING", "EXECUTING",
      "FINISHED",
    ]);
  });

  test("a task that always fails ends COMPLETED_WITH_ERRORS after maxAttempts, with its error", async () => {
    const { id } = await e.client.trigger("always-fails", {});
    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_WITH_ERRORS");
    expect(run.attemptCount).toBe(2);
    expect(run.error).toMatchObject({ name: "TypeError", message: "this task always fails" });
    await expect.poll(slotsHeld, { timeout: 10_000 }).toBe(0);
  });

  test("cancel while queued: the run never starts", async () => {
    const blockers = await Promise.all(Array.from({ length: 3 }, () => e.client.trigger("concurrency-probe", { holdMs: 1_500 })));
    await waitFor(async () => Number(await e.redis.get(`${e.prefix}probe:running`)) === 3, 10_000);
    const { id } = await e.client.trigger("concurrency-probe", { holdMs: 1 });
    expect((await e.client.runs.cancel(id)).status).toBe("CANCELED");
    expect(await statusesOf(id)).toEqual(["QUEUED", "FINISHED"]);
    await Promise.all(blockers.map(({ id: blocker }) => poll(blocker)));
    expect((await e.client.runs.retrieve(id)).startedAt).toBeNull();
  });

  test("cancel while executing: the task's AbortSignal fires and the run ends CANCELED", async () => {
    const { id } = await e.client.trigger("wait-for-abort", { ms: 60_000 });
    await waitFor(async () => (await e.redis.llen(`${e.prefix}started:${id}`)) === 1, 10_000);
    await e.client.runs.cancel(id);
    // Users see CANCELED from PENDING_CANCEL on; the run is finished once the worker confirms.
    expect((await poll(id)).status).toBe("CANCELED");
    await waitFor(async () => (await statusesOf(id)).at(-1) === "FINISHED", 10_000);
    await waitFor(async () => (await e.redis.get(`${e.prefix}aborted:${id}`)) !== null, 10_000);
    expect(await statusesOf(id)).toEqual(["QUEUED", "PENDING_EXECUTING", "EXECUTING", "PENDING_CANCEL", "FINISHED"]);
    await expect.poll(slotsHeld, { timeout: 10_000 }).toBe(0);
  });

  test("a worker killed with SIGKILL mid-run: the attempt fails as stalled and the run completes on the other worker", async () => {
    const { id } = await e.client.trigger("wait-for-abort", { ms: 4_000 });
    await waitFor(async () => (await e.redis.llen(`${e.prefix}started:${id}`)) === 1, 10_000);
    const [firstPid] = await e.redis.lrange(`${e.prefix}started:${id}`, 0, -1);
    const victim = e.workers.find((w) => String(w.child.pid) === firstPid);
    expect(victim).toBeDefined();
    victim!.child.kill("SIGKILL");
    await victim!.exited;

    const run = await poll(id);
    expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
    expect(run.attemptCount).toBe(2);
    const pids = await e.redis.lrange(`${e.prefix}started:${id}`, 0, -1);
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
    const history = await e.client.runs.history(id);
    expect(history.snapshots.some((s) => /heartbeat/i.test(s.description))).toBe(true);
    await expect.poll(slotsHeld, { timeout: 10_000 }).toBe(0);
  });
});
