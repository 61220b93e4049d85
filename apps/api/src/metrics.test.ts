import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { helloTask, startApi, type ApiFixture } from "./tests/apiFixture.ts";

let f: ApiFixture;
beforeAll(async () => {
  f = await startApi("api_metrics");
});
afterAll(async () => {
  await f.close();
});

/** The value of one sample line, e.g. `runengine_runs{environment="test",status="PENDING"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/metrics after some runs", () => {
  test("has every documented metric, with values that match what happened", async () => {
    const { engine } = f.handle;
    for (let i = 0; i < 3; i++) expect((await f.request("POST", "/api/v1/tasks/hello/trigger", { body: { payload: { i } } })).statusCode).toBe(201);

    // one run goes to a worker and starts; its heartbeat then goes overdue
    const { workerId } = await engine.registerWorker(f.environment, { version: "v1", name: "metrics-worker", concurrency: 1, tasks: [helloTask] });
    // after registering: a worker's registration sets its queues' limits from the task declarations
    await engine.queueConsole.setConcurrencyLimit(f.environment.id, "hello", 5);
    await engine.queueConsole.setConcurrencyLimit(f.environment.id, undefined, 10);
    const [dequeued] = await engine.dequeueForWorker({ workerId, maxRuns: 1 });
    expect(dequeued).toBeDefined();
    await engine.startAttempt(f.environment.id, dequeued!.runId, { workerId, snapshotId: dequeued!.snapshotId });
    expect(await engine.heartbeatMonitor().tick(Date.now() + 3_600_000)).toMatchObject({ stalled: 1 });
    engine.resources.metrics.countRepair("leaked-slot");

    const response = await f.request("GET", "/metrics", { key: null });
    expect(response.statusCode).toBe(200);
    const text = response.body;
    const env = 'environment="test"';
    expect(sample(text, `runengine_runs{${env},status="PENDING"}`)).toBe(2);
    expect(sample(text, `runengine_runs{${env},status="EXECUTING"}`)).toBe(1);
    expect(sample(text, `runengine_environment_queued{${env}}`)).toBe(2);
    expect(sample(text, `runengine_environment_in_flight{${env}}`)).toBe(1);
    expect(sample(text, `runengine_environment_concurrency_limit{${env}}`)).toBe(10);
    expect(sample(text, `runengine_queue_queued{${env},queue="hello"}`)).toBe(2);
    expect(sample(text, `runengine_queue_in_flight{${env},queue="hello"}`)).toBe(1);
    expect(sample(text, `runengine_queue_concurrency_limit{${env},queue="hello"}`)).toBe(5);
    expect(sample(text, `runengine_queue_paused{${env},queue="hello"}`)).toBe(0);
    expect(sample(text, "runengine_trigger_to_start_seconds_count")).toBe(1);
    const triggerToStart = sample(text, "runengine_trigger_to_start_seconds_sum")!;
    expect(triggerToStart).toBeGreaterThan(0);
    expect(triggerToStart).toBeLessThan(60);
    expect(sample(text, 'runengine_lock_wait_seconds_count{outcome="acquired"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'runengine_heartbeats_overdue_total{executionStatus="EXECUTING"}')).toBe(1);
    expect(sample(text, 'runengine_reconciler_repairs_total{kind="leaked-slot"}')).toBe(1);
    expect(sample(text, "runengine_runs_triggered_total")).toBe(3);
    expect(text).toMatch(/^# TYPE runengine_http_requests_total counter$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);

    // the Grafana dashboard in the repo uses only metrics that exist
    const dashboard = await readFile(new URL("../../../deploy/grafana/runengine.json", import.meta.url), "utf8");
    const used = new Set([...dashboard.matchAll(/runengine_[a-z_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, "")));
    expect(used.size).toBeGreaterThanOrEqual(12);
    for (const name of used) expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
  });
});
