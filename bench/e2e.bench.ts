/**
 * End-to-end benchmark: the engine's real processes and `runengine-worker` processes running a
 * no-op task, against BullMQ (same Redis) and graphile-worker (same Postgres) doing the same no-op
 * work, in one run. See bench/README.md ("End-to-end benchmark"). The last line is one JSON object.
 */
import os from "node:os";
import { Queue, Worker } from "bullmq";
import { Logger, makeWorkerUtils, run as runGraphile } from "graphile-worker";
import pg from "pg";
import { createTestDatabase } from "@runengine/testing";
import { burst, type BurstResult } from "./lib/burst.ts";
import { Cleanup } from "./lib/cleanup.ts";
import { CpuMeter } from "./lib/cpu.ts";
import { countFinalRuns, runStatus, runTimelines, startBenchEngine, type BenchEngine, type RunTimeline } from "./lib/engine.ts";
import { connect, deleteByPrefix, REDIS_HOST, REDIS_PORT } from "./lib/redis.ts";
import { stepBreakdown } from "./lib/steps.ts";
import { fmtInt, fmtMs, nowMs, round, sleep, summarize, type Summary } from "./lib/timing.ts";

const env = process.env;
const cfg = {
  /** Runs in the engine's throughput burst: sized for ~8-15 s at the engine's current speed. */
  engineRuns: Number(env.BENCH_E2E_RUNS ?? 3000),
  /** Runs before any measurement (JIT, connection pools, prepared statements, tsx caches). */
  warmupRuns: Number(env.BENCH_E2E_WARMUP_RUNS ?? 50),
  /** Sequential runs on an idle engine (and jobs for each baseline) for the start latency. */
  latencySamples: Number(env.BENCH_E2E_LATENCY_SAMPLES ?? 500),
  /**
   * Worker processes x slots each. One process with 50 slots: the shape both baselines get (one
   * BullMQ Worker, one graphile-worker runner, concurrency 50 each).
   */
  workers: Number(env.BENCH_E2E_WORKERS ?? 1),
  workerConcurrency: Number(env.BENCH_E2E_WORKER_CONCURRENCY ?? 50),
  /** Batch size of every producer (engine batchTrigger, BullMQ addBulk, graphile addJobs). */
  batch: 50,
  producers: 2,
  engineBatch: Number(env.BENCH_E2E_BATCH ?? 50),
  /**
   * Producers in flight at once for the engine: each batchTrigger request returns once its runs
   * are written and queued, a few hundred ms while the burst shares the CPU, so two would trickle
   * runs in and measure the producer; eight keep a backlog queued, as a backend with one would, so
   * that the engine and not the producer sets the pace.
   */
  engineProducers: Number(env.BENCH_E2E_PRODUCERS ?? 8),
  /** Baseline burst sizes: a few seconds each at the rates measured on this machine. */
  bullmqJobs: Number(env.BENCH_E2E_BULLMQ_JOBS ?? 30_000),
  bullmqConcurrency: Number(env.BENCH_E2E_BULLMQ_CONCURRENCY ?? 50),
  graphileJobs: Number(env.BENCH_E2E_GRAPHILE_JOBS ?? 5_000),
  graphileConcurrency: 50,
  /** The engine burst stops here even if runs are left: the whole bench must stay < 5 minutes. */
  engineTimeoutMs: Number(env.BENCH_E2E_TIMEOUT_MS ?? 90_000),
  /** The engine's log level; "info" is its default, what a deployment runs with. */
  logLevel: env.BENCH_E2E_LOG_LEVEL ?? "info",
  /** Comma-separated subset of engine,bullmq,graphile, for working on one part. */
  only: new Set((env.BENCH_ONLY ?? "engine,bullmq,graphile").split(",")),
};
const TASK_ID = "bench-noop";

const cleanup = new Cleanup();

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

function latencyLine(s: Summary): string {
  return `p50 ${fmtMs(s.p50)} ms, p95 ${fmtMs(s.p95)} ms, p99 ${fmtMs(s.p99)} ms, max ${fmtMs(s.max)} ms (n=${s.n})`;
}

function burstLine(label: string, r: BurstResult): string {
  return (
    `${label}: ${fmtInt(r.runsPerSec)} runs/s (${fmtInt(r.completed)} of ${fmtInt(r.total)} final in ${r.seconds.toFixed(2)} s; ` +
    `all submitted after ${r.submitSeconds.toFixed(2)} s)` +
    (r.timedOut ? ` — TIME LIMIT: ${fmtInt(r.total - r.completed)} runs not final` : "")
  );
}

function printBreakdown(title: string, timelines: readonly RunTimeline[]): void {
  log(`  ${title}`);
  for (const s of stepBreakdown(timelines)) {
    log(`    ${s.step.padEnd(72)} p50 ${fmtMs(s.p50).padStart(6)} ms  p95 ${fmtMs(s.p95).padStart(6)} ms  mean ${fmtMs(s.mean).padStart(6)} ms  (${s.runs} runs)`);
  }
}

/** Polls one run's status in Postgres until it is final; false after `timeoutMs`. */
async function waitFinal(be: BenchEngine, runId: string, timeoutMs: number): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  while (nowMs() < deadline) {
    const status = await runStatus(be.db, runId);
    if (status && ["COMPLETED_SUCCESSFULLY", "COMPLETED_WITH_ERRORS", "CANCELED", "SYSTEM_FAILURE", "CRASHED", "EXPIRED", "TIMED_OUT"].includes(status)) return true;
    await sleep(10);
  }
  return false;
}

interface EngineLatency {
  /** TaskRun.startedAt − TaskRun.createdAt, as the engine recorded them (the JSON figure) */
  dbMs: Summary;
  /** from just before the client's trigger() call to TaskRun.startedAt: adds the HTTP hop */
  clientMs: Summary;
  timelines: RunTimeline[];
  lost: number;
}

/**
 * Trigger-to-start on an idle engine: one run at a time, the next only once the previous one is
 * final, so nothing queues behind anything. Measured from the engine's own record afterwards.
 */
async function engineStartLatency(be: BenchEngine): Promise<EngineLatency> {
  const sent = new Map<string, number>();
  let lost = 0;
  for (let i = 0; i < cfg.latencySamples; i++) {
    const t = Date.now();
    const { id } = await be.client.trigger(TASK_ID, { i });
    sent.set(id, t);
    if (!(await waitFinal(be, id, 10_000))) lost++;
  }
  const timelines = await runTimelines(be.db, [...sent.keys()]);
  const started = timelines.filter((t) => t.startedAt !== null);
  return {
    dbMs: summarize(started.map((t) => t.startedAt! - t.createdAt)),
    clientMs: summarize(started.map((t) => t.startedAt! - sent.get(t.runId)!)),
    timelines,
    lost,
  };
}

/**
 * Throughput: `cfg.engineRuns` no-op runs triggered with batchTrigger (batches of 50, two
 * producers), counted final with one count(*) every 200 ms on the engine's database.
 */
interface EngineThroughput {
  result: BurstResult;
  timelines: RunTimeline[];
  failed: number;
  /** duration of each batchTrigger call of 50 */
  batchTriggerMs: Summary;
  cpu: Array<{ label: string; seconds: number }>;
}

async function engineThroughput(be: BenchEngine): Promise<EngineThroughput> {
  const before = await countFinalRuns(be.db);
  const ids: string[] = [];
  const callMs: number[] = [];
  const redis = connect();
  const meter = new CpuMeter(
    [
      ...[...be.engine.processes.entries()].map(([name, p]) => ({ label: name.replace(/-\d+$/, ""), pid: p.child.pid! })),
      ...be.workers.map((w) => ({ label: `runengine-worker x${be.workers.length}`, pid: w.child.pid! })),
    ],
    be.db,
    redis,
  );
  await meter.begin();
  const result = await burst({
    total: cfg.engineRuns,
    batch: cfg.engineBatch,
    producers: cfg.engineProducers,
    submit: async (n) => {
      const t = nowMs();
      const { runs } = await be.client.batchTrigger(TASK_ID, Array.from({ length: n }, (_, i) => ({ payload: { i } })));
      callMs.push(nowMs() - t);
      for (const r of runs) ids.push(r.id);
    },
    completed: async () => (await countFinalRuns(be.db)).final - before.final,
    pollMs: 200,
    timeoutMs: cfg.engineTimeoutMs,
  });
  const cpu = await meter.end();
  redis.disconnect();
  const after = await countFinalRuns(be.db);
  const failed = after.final - after.succeeded - (before.final - before.succeeded);
  return { result, timelines: await runTimelines(be.db, ids), failed, batchTriggerMs: summarize(callMs), cpu };
}

function printCpu(r: EngineThroughput): void {
  const cores = os.cpus().length;
  const total = r.cpu.reduce((s, c) => s + c.seconds, 0);
  log(
    `  CPU during the burst (${r.result.seconds.toFixed(1)} s wall x ${cores} cores = ${(r.result.seconds * cores).toFixed(1)} core-s; ` +
      `measured parts used ${total.toFixed(1)} core-s, load average ${loadAverage()}):`,
  );
  for (const c of [...r.cpu].sort((a, b) => b.seconds - a.seconds)) {
    log(
      `    ${c.label.padEnd(32)} ${c.seconds.toFixed(2).padStart(6)} core-s  ${fmtMs((1000 * c.seconds) / r.result.completed).padStart(6)} ms CPU/run  ` +
        `${((100 * c.seconds) / r.result.seconds).toFixed(0).padStart(3)}% of one core`,
    );
  }
}

/** Warm-up: a burst of runs nobody measures, so the first measured run is not the first run. */
async function engineWarmup(be: BenchEngine): Promise<void> {
  const before = (await countFinalRuns(be.db)).final;
  await be.client.batchTrigger(TASK_ID, Array.from({ length: cfg.warmupRuns }, (_, i) => ({ payload: { i } })));
  const deadline = nowMs() + 60_000;
  while ((await countFinalRuns(be.db)).final - before < cfg.warmupRuns) {
    if (nowMs() > deadline) throw new Error("warm-up runs not final after 60 s: see test-artifacts/logs/bench-e2e-*.log");
    await sleep(100);
  }
}

interface BaselineResult {
  throughput: BurstResult;
  startMs: Summary;
}

/**
 * BullMQ doing the same no-op work on the same Redis: one Worker, concurrency = the engine's total
 * worker slots, jobs removed on completion. Throughput as an open-loop burst (addBulk batches of
 * 50, two producers); start latency from just before `add` to the processor being called, one job
 * at a time on an idle queue.
 */
async function bullmqBaseline(): Promise<BaselineResult> {
  // BullMQ joins prefix and queue name with ':' and refuses ':' in names, so no colons here.
  const prefix = `benchbull-e2e-${process.pid}-${Date.now().toString(36)}`;
  const removeKeys = cleanup.add(`delete keys ${prefix}:*`, async () => {
    const redis = connect();
    try {
      await deleteByPrefix(redis, `${prefix}:`);
    } finally {
      redis.disconnect();
    }
  });
  const producer = connect();
  const queue = new Queue("noop", { connection: producer, prefix });
  let completed = 0;
  let onStart: (() => void) | null = null;
  const worker = new Worker(
    "noop",
    async () => {
      onStart?.();
      return undefined;
    },
    {
      connection: { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null },
      prefix,
      concurrency: cfg.bullmqConcurrency,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    },
  );
  worker.on("completed", () => completed++);
  worker.on("error", (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
  const stop = cleanup.add("close BullMQ", async () => {
    await worker.close(true);
    await queue.close();
    producer.disconnect();
  });
  await worker.waitUntilReady();
  const jobOpts = { removeOnComplete: true, removeOnFail: true };

  // Warm-up, not measured, as for the engine.
  await queue.addBulk(Array.from({ length: 1000 }, () => ({ name: "noop", data: {}, opts: jobOpts })));
  while (completed < 1000) await sleep(10);

  const startMs: number[] = [];
  for (let i = 0; i < cfg.latencySamples; i++) {
    const started = new Promise<number>((resolve) => (onStart = () => resolve(nowMs())));
    const done = completed + 1;
    const t0 = nowMs();
    await queue.add("noop", {}, jobOpts);
    startMs.push((await started) - t0);
    onStart = null;
    while (completed < done) await sleep(1);
  }

  const base = completed;
  const throughput = await burst({
    total: cfg.bullmqJobs,
    batch: cfg.batch,
    producers: cfg.producers,
    submit: (n) => queue.addBulk(Array.from({ length: n }, () => ({ name: "noop", data: {}, opts: jobOpts }))),
    completed: () => completed - base,
    pollMs: 10,
    timeoutMs: 60_000,
  });
  await stop();
  await removeKeys();
  return { throughput, startMs: summarize(startMs) };
}

/**
 * graphile-worker doing the same no-op work on the same Postgres, in a fresh database of its own:
 * default settings but concurrency 50, info logging silenced (its default logger prints a line per
 * job, which would measure the console). Same burst (addJobs batches of 50, two producers) and the
 * same start latency measurement as BullMQ.
 */
async function graphileBaseline(): Promise<BaselineResult> {
  const db = await createTestDatabase("bench-graphile");
  const drop = cleanup.add(`drop database ${db.name}`, () => db.drop());
  // Once the baseline is over, the database is dropped under any client still open: not news.
  let stopping = false;
  const logger = new Logger(() => (level, message) => {
    if (level === "error" && !stopping) process.stderr.write(`graphile-worker: ${message}\n`);
  });
  // One pool of our own for runner and utils, ended before the database is dropped: a pool
  // graphile-worker opens itself can outlive runner.stop() and crash the process with an
  // unhandled "terminating connection" when DROP DATABASE ... WITH (FORCE) cuts it.
  const pgPool = new pg.Pool({ connectionString: db.url, max: cfg.graphileConcurrency + 5 });
  // A client's error (the server ending it) would otherwise be thrown as unhandled; graphile-worker
  // wants a handler for idle and for checked-out clients, and says so on stderr when one is missing.
  const onClientError = (error: Error) => {
    if (!stopping) process.stderr.write(`graphile-worker pool: ${error.message}\n`);
  };
  pgPool.on("error", onClientError);
  pgPool.on("connect", (client) => client.on("error", onClientError));
  let completed = 0;
  let onStart: (() => void) | null = null;
  const runner = await runGraphile({
    pgPool,
    concurrency: cfg.graphileConcurrency,
    noHandleSignals: true,
    logger,
    taskList: {
      noop: async () => {
        onStart?.();
      },
    },
  });
  runner.events.on("job:success", () => completed++);
  const utils = await makeWorkerUtils({ pgPool, logger });
  const stop = cleanup.add("stop graphile-worker", async () => {
    stopping = true;
    await runner.stop();
    await utils.release();
    await pgPool.end();
  });
  const addMany = (n: number) => utils.addJobs(Array.from({ length: n }, () => ({ identifier: "noop", payload: {} })));

  await addMany(500);
  while (completed < 500) await sleep(10);

  const startMs: number[] = [];
  for (let i = 0; i < cfg.latencySamples; i++) {
    const started = new Promise<number>((resolve) => (onStart = () => resolve(nowMs())));
    const done = completed + 1;
    const t0 = nowMs();
    await utils.addJob("noop", {});
    startMs.push((await started) - t0);
    onStart = null;
    while (completed < done) await sleep(1);
  }

  const base = completed;
  const throughput = await burst({
    total: cfg.graphileJobs,
    batch: cfg.batch,
    producers: cfg.producers,
    submit: addMany,
    completed: () => completed - base,
    pollMs: 10,
    timeoutMs: 60_000,
  });
  await stop();
  await drop();
  return { throughput, startMs: summarize(startMs) };
}

async function main(): Promise<void> {
  const started = Date.now();
  log(
    `e2e bench: engine (api, dispatcher, finalizer, heartbeat-monitor) + ${cfg.workers} runengine-worker x ${cfg.workerConcurrency} slots, ` +
      `no-op task; ${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );

  let engineResult: Awaited<ReturnType<typeof engineThroughput>> | null = null;
  let latency: EngineLatency | null = null;
  if (cfg.only.has("engine")) {
    const t = nowMs();
    const be = await startBenchEngine(cleanup, { label: "bench-e2e", workers: cfg.workers, concurrency: cfg.workerConcurrency, logLevel: cfg.logLevel });
    log(`  started in ${((nowMs() - t) / 1000).toFixed(1)} s (database ${be.db.name}, Redis prefix ${be.prefix}; logs in test-artifacts/logs/bench-e2e-*.log)`);
    await engineWarmup(be);

    latency = await engineStartLatency(be);
    log(
      `engine, trigger-to-start on an idle engine (${cfg.latencySamples} runs one at a time; TaskRun.startedAt − createdAt): ${latencyLine(latency.dbMs)}` +
        (latency.lost ? `; ${latency.lost} runs not final within 10 s` : ""),
    );
    log(`  from the client's trigger() call (adds the HTTP hop to the api): ${latencyLine(latency.clientMs)}`);

    engineResult = await engineThroughput(be);
    log(burstLine(`engine, ${fmtInt(cfg.engineRuns)} no-op runs, trigger to final state`, engineResult.result));
    log(`  batchTrigger of ${cfg.engineBatch} (${cfg.engineProducers} producers) during the burst: ${latencyLine(engineResult.batchTriggerMs)}`);
    printCpu(engineResult);
    if (engineResult.failed > 0) log(`  WARNING: ${engineResult.failed} runs ended in a state other than COMPLETED_SUCCESSFULLY`);

    log("where the time goes (gaps between a run's valid execution snapshots, as Postgres stamped them):");
    printBreakdown("idle engine, one run at a time:", latency.timelines);
    printBreakdown(`under load (the ${fmtInt(cfg.engineRuns)}-run burst; queue waits for a free slot land in QUEUED→PENDING_EXECUTING):`, engineResult.timelines);
    await cleanup.runAll();
  }

  const skipped: BaselineResult = { throughput: { runsPerSec: Number.NaN } as BurstResult, startMs: summarize([]) };
  const bull = cfg.only.has("bullmq") ? await bullmqBaseline() : skipped;
  if (cfg.only.has("bullmq")) {
    log(burstLine(`BullMQ 6.7, 1 worker, concurrency ${cfg.bullmqConcurrency}, ${fmtInt(cfg.bullmqJobs)} no-op jobs`, bull.throughput));
    log(`  start latency (add() call to processor, one job at a time): ${latencyLine(bull.startMs)}`);
  }
  const graphile = cfg.only.has("graphile") ? await graphileBaseline() : skipped;
  if (cfg.only.has("graphile")) {
    log(burstLine(`graphile-worker 0.18, concurrency ${cfg.graphileConcurrency}, ${fmtInt(cfg.graphileJobs)} no-op jobs`, graphile.throughput));
    log(`  start latency (addJob() call to task function, one job at a time): ${latencyLine(graphile.startMs)}`);
  }

  const ours = engineResult?.result.runsPerSec;
  const ratio = (a: number | undefined, b: number) => (a === undefined || !Number.isFinite(b) ? null : round(a / b, 4));
  const finite = (n: number, digits = 0) => (Number.isFinite(n) ? round(n, digits) : null);
  const summary = {
    bench: "e2e",
    runsPerSec: ours === undefined ? null : round(ours, 1),
    bullmqRunsPerSec: finite(bull.throughput.runsPerSec),
    ratioVsBullmq: ratio(ours, bull.throughput.runsPerSec),
    graphileRunsPerSec: finite(graphile.throughput.runsPerSec),
    ratioVsGraphile: ratio(ours, graphile.throughput.runsPerSec),
    startLatencyMs: latency ? { p50: round(latency.dbMs.p50, 1), p95: round(latency.dbMs.p95, 1), p99: round(latency.dbMs.p99, 1) } : null,
  };
  log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadAverage()}`);
  log(JSON.stringify(summary));
}

main().then(
  async () => {
    await cleanup.runAll();
    process.exit(0);
  },
  async (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    await cleanup.runAll();
    process.exit(1);
  },
);
