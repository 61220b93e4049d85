/**
 * Run-queue benchmark: @runengine/run-queue against BullMQ on the same Redis, in one run.
 * See bench/README.md for what each line means. The last line printed is one JSON object.
 */
import os from "node:os";
import { Queue, Worker } from "bullmq";
import { Flow, measureWindow, type WindowResult } from "./lib/flow.ts";
import { connect, KeyJanitor, REDIS_HOST, REDIS_PORT, uniquePrefix } from "./lib/redis.ts";
import { type RedisCost, RedisMeter } from "./lib/redisMeter.ts";
import { RunQueue, type DequeuedMessage, type EnqueueMessage } from "@runengine/run-queue";
import { fmtInt, fmtMs, nowMs, round, sleep, summarize } from "./lib/timing.ts";

const env = process.env;
const cfg = {
  warmupMs: Number(env.BENCH_WARMUP_MS ?? 2000),
  /** Split into 3 windows; the median one is reported. */
  windowMs: Number(env.BENCH_WINDOW_MS ?? 6000),
  /** Runs per enqueue batch (enqueueMany / addBulk) and per dequeue (maxCount), for both queues. */
  batch: 50,
  /** Concurrent consumer loops, each with its own RunQueue and Redis connection. */
  consumers: Number(env.BENCH_CONSUMERS ?? 8),
  /** Concurrent producer loops, for both queues (see the README: the producers must not be the limit). */
  producers: Number(env.BENCH_PRODUCERS ?? 4),
  /** Queues the measured work flows through in every run-queue scenario. */
  activeQueues: 10,
  /** Envs the idle and blocked queues are spread over (the 10 active envs among them). */
  envs: 100,
  noisyRuns: Number(env.BENCH_NOISY_RUNS ?? 1_000_000),
  /** Consumers kept busy by the noisy env: each dequeue in flight when the quiet run arrives counts as one it waited. */
  noisyConsumers: Number(env.BENCH_NOISY_CONSUMERS ?? 4),
  noisySamples: 20,
  queueCounts: (env.BENCH_QUEUE_COUNTS ?? "10,1000,100000").split(",").map(Number),
  /** Idle/blocked queues created before the cost-by-operation phases (0: none), to see what grows with them. */
  costIdleQueues: Number(env.BENCH_COST_IDLE_QUEUES ?? 0),
  /** Comma-separated subset of rq,bullmq,noisy (cost: only the run queue's cost by operation), for working on one part. */
  only: new Set((env.BENCH_ONLY ?? "rq,bullmq,noisy").split(",")),
  bullmqConcurrency1: Number(env.BENCH_BULLMQ_CONCURRENCY ?? 100),
  bullmqConcurrency1000: Number(env.BENCH_BULLMQ1000_CONCURRENCY ?? 10),
};
/** Visibility timeout far beyond the bench, so runs held on purpose are never reclaimed. */
const HOUR_MS = 3_600_000;
/** A limit that never binds, for envs and queues whose limit is not what is being tested. */
const UNBOUNDED = 1_000_000;

const janitor = new KeyJanitor();

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(" ");
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function describe(label: string, r: WindowResult): void {
  log(
    `${label}: ${fmtInt(r.runsPerSec)} runs/s (median of 3 windows of ${r.seconds.toFixed(1)} s, ` +
      `range ${fmtInt(r.spread[0])}-${fmtInt(r.spread[1])}; ` +
      `enqueue->ack p50 ${fmtMs(r.latency.p50)} ms, p99 ${fmtMs(r.latency.p99)} ms)`,
  );
  if (r.redis) {
    log(
      `  redis: ${fmtMs(r.redis.cpuUsPerRun)} us CPU/run, ${r.redis.commandsPerRun.toFixed(1)} commands/run (counting those inside scripts), ` +
        `${fmtMs(r.redis.scriptUsPerCall)} us/script call, main thread ${(100 * r.redis.cpuUtil).toFixed(0)}% busy`,
    );
    if (env.BENCH_VERBOSE) {
      const top = r.redis.top.slice(0, 12).map((c) => `${c.command} ${c.callsPerRun.toFixed(2)}x ${fmtMs(c.usPerRun)}us`);
      log(`  redis per run: ${top.join(", ")}`);
    }
  }
}

/** Runs `fn` over `items`, `width` at a time, so setup pipelines without queueing 100k promises. */
async function inWaves<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One RunQueue per Redis connection, as a separate dispatcher process would have. */
class Clients {
  private readonly opened: Array<{ rq: RunQueue; close: () => void }> = [];
  constructor(private readonly keyPrefix: string) {}

  open(): RunQueue {
    const redis = connect();
    const rq = new RunQueue({ redis, keyPrefix: this.keyPrefix, visibilityTimeoutMs: HOUR_MS });
    this.opened.push({ rq, close: () => redis.disconnect() });
    return rq;
  }

  async closeAll(): Promise<void> {
    for (const { rq, close } of this.opened) {
      await rq.close().catch(() => undefined);
      close();
    }
  }
}

const msg = (envId: string, queue: string, runId: string): EnqueueMessage => ({
  runId,
  orgId: "org",
  envId,
  queue,
  attempt: 0,
});

/**
 * Makes `count` queues that are not runnable, so a dequeue that scans them would show it:
 * a third at limit 0 with a queued run, a third full (limit 1, one run held in flight, one queued),
 * a third drained (had a run, it was dequeued and acked). Returns how long it took.
 */
async function createIdleQueues(admin: RunQueue, count: number): Promise<{ seconds: number; held: number }> {
  const t0 = nowMs();
  const envOf = (j: number) => `env${j % cfg.envs}`;
  const kinds = ["zero", "full", "idle"] as const;
  const queues = Array.from({ length: count }, (_, j) => ({ envId: envOf(j), queue: `${kinds[j % 3]}${j}`, kind: kinds[j % 3]! }));
  const limited = queues.filter((q) => q.kind !== "idle");
  await inWaves(limited, 1000, (q) => admin.setConcurrencyLimit({ envId: q.envId, queue: q.queue, limit: q.kind === "zero" ? 0 : 1 }));
  for (const batch of chunk(queues, 1000)) await admin.enqueueMany(batch.map((q) => msg(q.envId, q.queue, `setup-a-${q.queue}`)));

  // Every run of a full or idle queue is dequeueable; zero-limit runs must never come out.
  const expected = queues.length - Math.ceil(count / 3);
  let got = 0;
  let empty = 0;
  while (got < expected && empty < 50) {
    const runs = await admin.dequeue({ consumerId: "setup", maxCount: 1000 });
    if (runs.length === 0) {
      empty++;
      await sleep(10);
      continue;
    }
    empty = 0;
    got += runs.length;
    const idle = runs.filter((r) => r.queue.startsWith("idle"));
    const wrong = runs.filter((r) => r.queue.startsWith("zero"));
    if (wrong.length > 0) throw new Error(`setup: ${wrong.length} runs dequeued from queues at limit 0`);
    await inWaves(idle, 1000, (r) => admin.ack(r.runId));
  }
  if (got !== expected) throw new Error(`setup: dequeued ${got} of ${expected} setup runs`);
  const full = queues.filter((q) => q.kind === "full");
  for (const batch of chunk(full, 1000)) await admin.enqueueMany(batch.map((q) => msg(q.envId, q.queue, `setup-b-${q.queue}`)));
  return { seconds: (nowMs() - t0) / 1000, held: full.length };
}

/**
 * Enqueue -> dequeue (batches of `cfg.batch`) -> ack through 10 active queues, while
 * `totalQueues - 10` other queues sit at their limit or empty. `ackMode` "each": every run is acked
 * with its own ack() call (as the engine does, one run as it finishes); "many": a consumer acks the
 * runs of a dequeued batch with one ackMany() call.
 */
async function runQueueThroughput(
  totalQueues: number,
  ackMode: "each" | "many" = "each",
): Promise<WindowResult & { unexpected: number }> {
  const prefix = janitor.track(uniquePrefix(`rq${totalQueues}${ackMode === "many" ? "m" : ""}`));
  const clients = new Clients(prefix);
  const admin = clients.open();
  const active = Array.from({ length: cfg.activeQueues }, (_, i) => ({ envId: `env${i}`, queue: `active${i}` }));
  const envIds = Array.from({ length: totalQueues > cfg.activeQueues ? cfg.envs : cfg.activeQueues }, (_, i) => `env${i}`);
  await inWaves(envIds, 100, (envId) => admin.setConcurrencyLimit({ envId, limit: UNBOUNDED }));
  await inWaves(active, 100, (a) => admin.setConcurrencyLimit({ ...a, limit: UNBOUNDED }));
  if (totalQueues > cfg.activeQueues) {
    const setup = await createIdleQueues(admin, totalQueues - cfg.activeQueues);
    log(
      `  setup: ${fmtInt(totalQueues - cfg.activeQueues)} idle/blocked queues over ${envIds.length} envs in ${setup.seconds.toFixed(1)} s ` +
        `(${fmtInt(setup.held)} runs held in flight)`,
    );
  }

  const flow = new Flow(Math.max(2_000, cfg.activeQueues * cfg.batch * 4));
  const enqueuedAt = new Map<string, number>();
  let seq = 0;
  let unexpected = 0;
  const producer = clients.open();
  const produce = async () => {
    while (!flow.stopped) {
      await flow.room(cfg.batch);
      if (flow.stopped) break;
      const now = Date.now();
      const batch = Array.from({ length: cfg.batch }, () => {
        const n = seq++;
        const a = active[n % active.length]!;
        const runId = `r${n}`;
        enqueuedAt.set(runId, now);
        return msg(a.envId, a.queue, runId);
      });
      flow.enqueued += batch.length;
      await producer.enqueueMany(batch);
    }
  };
  const consume = async (rq: RunQueue, consumerId: string) => {
    while (!flow.stopped) {
      const runs = await rq.dequeue({ consumerId, maxCount: cfg.batch });
      if (runs.length === 0) {
        // Not a busy spin: on 2 cores a spinning consumer would steal Redis's CPU.
        await sleep(1);
        continue;
      }
      const acked = (r: DequeuedMessage) => {
        const t = enqueuedAt.get(r.runId);
        if (t === undefined) unexpected++;
        else {
          enqueuedAt.delete(r.runId);
          flow.onAcked(1, t);
        }
      };
      if (ackMode === "many") {
        await rq.ackMany(runs.map((r) => r.runId));
        runs.forEach(acked);
      } else {
        await Promise.all(
          runs.map(async (r) => {
            await rq.ack(r.runId);
            acked(r);
          }),
        );
      }
    }
  };
  const loops = [...Array.from({ length: cfg.producers }, produce), ...Array.from({ length: cfg.consumers }, (_, i) => consume(clients.open(), `c${i}`))];
  const meterConn = connect();
  const result = await measureWindow(flow, cfg.warmupMs, cfg.windowMs, new RedisMeter(meterConn));
  flow.stop();
  await Promise.all(loops);
  meterConn.disconnect();
  await clients.closeAll();
  await janitor.clean(prefix);
  return { ...result, unexpected };
}

/**
 * Redis's own cost of each operation, measured one phase at a time with nothing else running:
 * 20,000 runs over the 10 active queues enqueued (batches of 50), dequeued (maxCount 50), acked.
 * Says which operation the throughput figures are spent on.
 */
async function runQueueCostByOperation(): Promise<Array<{ op: string; cost: RedisCost; callsPerRun: number }>> {
  const prefix = janitor.track(uniquePrefix("rqcost"));
  const clients = new Clients(prefix);
  const rq = clients.open();
  const meterConn = connect();
  const meter = new RedisMeter(meterConn);
  const runs = 20_000;
  const active = Array.from({ length: cfg.activeQueues }, (_, i) => ({ envId: `env${i}`, queue: `active${i}` }));
  await inWaves(active, 100, (a) => rq.setConcurrencyLimit({ envId: a.envId, limit: UNBOUNDED }));
  if (cfg.costIdleQueues > 0) {
    const envIds = Array.from({ length: cfg.envs }, (_, i) => `env${i}`);
    await inWaves(envIds, 100, (envId) => rq.setConcurrencyLimit({ envId, limit: UNBOUNDED }));
    const setup = await createIdleQueues(rq, cfg.costIdleQueues);
    log(`  setup: ${fmtInt(cfg.costIdleQueues)} idle/blocked queues over ${cfg.envs} envs in ${setup.seconds.toFixed(1)} s`);
  }
  const out: Array<{ op: string; cost: RedisCost; callsPerRun: number }> = [];
  const phase = async (op: string, calls: number, work: () => Promise<void>) => {
    await meter.begin();
    await work();
    out.push({ op, cost: await meter.end(runs), callsPerRun: calls / runs });
  };

  const messages = Array.from({ length: runs }, (_, n) => msg(active[n % active.length]!.envId, active[n % active.length]!.queue, `r${n}`));
  await phase("enqueueMany(50)", runs / cfg.batch, () => inWaves(chunk(messages, cfg.batch), 4, (b) => rq.enqueueMany(b)));
  const taken: string[] = [];
  let dequeueCalls = 0;
  await phase("dequeue(maxCount 50)", 0, async () => {
    let empty = 0;
    while (taken.length < runs && empty < 100) {
      dequeueCalls++;
      const got = await rq.dequeue({ consumerId: "c", maxCount: cfg.batch });
      if (got.length === 0) empty++;
      for (const r of got) taken.push(r.runId);
    }
  });
  out[out.length - 1]!.callsPerRun = dequeueCalls / runs;
  if (taken.length !== runs) throw new Error(`cost: dequeued ${taken.length} of ${runs}`);
  await phase("ack", runs, () => inWaves(taken, cfg.batch, (id) => rq.ack(id)));
  // The same runs again, acked with ackMany (one call per dequeued batch of 50) instead.
  await inWaves(chunk(messages, cfg.batch), 4, (b) => rq.enqueueMany(b));
  const again: string[][] = [];
  let got = 0;
  while (got < runs) {
    const batch = await rq.dequeue({ consumerId: "c", maxCount: cfg.batch });
    if (batch.length === 0) throw new Error(`cost: dequeued ${got} of ${runs} for ackMany`);
    again.push(batch.map((r) => r.runId));
    got += batch.length;
  }
  await phase(`ackMany(${cfg.batch})`, again.length, () => inWaves(again, 1, (ids) => rq.ackMany(ids)));
  meterConn.disconnect();
  await clients.closeAll();
  await janitor.clean(prefix);
  return out;
}

interface NoisyResult {
  loadSeconds: number;
  waitMs: ReturnType<typeof summarize>;
  waitDequeues: ReturnType<typeof summarize>;
  runsAhead: ReturnType<typeof summarize>;
  samples: number;
  lost: number;
}

/**
 * One env holds `cfg.noisyRuns` queued runs and every consumer is busy with them; a quiet env
 * enqueues a single run. Measures how long, and how many dequeues, until it comes out.
 */
async function noisyNeighbour(): Promise<NoisyResult> {
  const prefix = janitor.track(uniquePrefix("rqnoisy"));
  const clients = new Clients(prefix);
  const admin = clients.open();
  await admin.setConcurrencyLimit({ envId: "noisy", limit: UNBOUNDED });
  await admin.setConcurrencyLimit({ envId: "noisy", queue: "flood", limit: UNBOUNDED });
  await admin.setConcurrencyLimit({ envId: "quiet", limit: 10 });

  // Several loaders, each with its own connection, each with a few batches in flight: enqueueing
  // a million runs one round trip at a time would dominate the bench.
  const t0 = nowMs();
  const loadBatch = 1000;
  let next = 0;
  const load = async (rq: RunQueue) => {
    for (;;) {
      const start = next;
      next += loadBatch;
      if (start >= cfg.noisyRuns) return;
      const end = Math.min(start + loadBatch, cfg.noisyRuns);
      const batch: EnqueueMessage[] = [];
      for (let i = start; i < end; i++) batch.push(msg("noisy", "flood", `n${i}`));
      await rq.enqueueMany(batch);
    }
  };
  await Promise.all(Array.from({ length: 4 }, () => clients.open()).flatMap((rq) => [load(rq), load(rq)]));
  const loadSeconds = (nowMs() - t0) / 1000;
  log(`  loaded ${fmtInt(cfg.noisyRuns)} runs into one env in ${loadSeconds.toFixed(1)} s (${fmtInt(cfg.noisyRuns / loadSeconds)} runs/s)`);

  let stopped = false;
  let callSeq = 0;
  // The pending quiet run: dequeue calls that started after its enqueue returned and came back
  // without it are the dequeues it waited.
  let pending: { runId: string; t0: number; firstCall: number; passed: number; ahead: number; done: (ms: number) => void } | null = null;
  const consume = async (rq: RunQueue, consumerId: string) => {
    while (!stopped) {
      const call = callSeq++;
      const runs = await rq.dequeue({ consumerId, maxCount: cfg.batch });
      const p = pending;
      if (p && runs.some((r) => r.runId === p.runId)) {
        pending = null;
        p.done(nowMs() - p.t0);
      } else if (p && call >= p.firstCall) {
        p.passed++;
        p.ahead += runs.length;
      }
      if (runs.length === 0) await sleep(1);
      await Promise.all(runs.map((r) => rq.ack(r.runId)));
    }
  };
  const loops = Array.from({ length: cfg.noisyConsumers }, (_, i) => consume(clients.open(), `c${i}`));
  await sleep(cfg.warmupMs);

  const ms: number[] = [];
  const dequeues: number[] = [];
  const ahead: number[] = [];
  let lost = 0;
  for (let s = 0; s < cfg.noisySamples; s++) {
    const runId = `quiet${s}`;
    const started = nowMs();
    let resolve!: (ms: number) => void;
    const seen = new Promise<number>((r) => (resolve = r));
    const p = { runId, t0: started, firstCall: Number.POSITIVE_INFINITY, passed: 0, ahead: 0, done: resolve };
    pending = p;
    await admin.enqueue(msg("quiet", "default", runId));
    p.firstCall = callSeq;
    const waited = await Promise.race([seen, sleep(30_000).then(() => -1)]);
    if (waited < 0) {
      lost++;
      pending = null;
    } else {
      ms.push(waited);
      dequeues.push(p.passed);
      ahead.push(p.ahead);
    }
    await sleep(100);
  }
  stopped = true;
  await Promise.all(loops);
  await clients.closeAll();
  await janitor.clean(prefix);
  return { loadSeconds, waitMs: summarize(ms), waitDequeues: summarize(dequeues), runsAhead: summarize(ahead), samples: ms.length, lost };
}

/**
 * BullMQ doing the same work: add a no-op job, process it, remove it on completion.
 * One Worker per queue, because a BullMQ worker reads a single queue.
 */
async function bullmqThroughput(queueCount: number, concurrency: number): Promise<WindowResult> {
  // BullMQ joins prefix and queue name with ':' and refuses ':' in names, so no colons here.
  const prefix = `benchbull-${process.pid}-${queueCount}-${Date.now().toString(36)}`;
  janitor.track(`${prefix}:`);
  const producerConn = connect();
  const names = Array.from({ length: queueCount }, (_, i) => `q${i}`);
  const queues = names.map((name) => new Queue(name, { connection: producerConn, prefix }));
  // A backlog that gives every worker slot work without letting wait lists grow without bound.
  const flow = new Flow(Math.max(2_000, 10 * queueCount));
  const jobOpts = { removeOnComplete: true, removeOnFail: true };

  const workers = names.map(
    (name) =>
      new Worker(name, async () => undefined, {
        connection: { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null },
        prefix,
        concurrency,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      }),
  );
  for (const w of workers) {
    w.on("completed", (job) => flow.onAcked(1, job.timestamp));
    w.on("error", (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
  }
  await Promise.all(workers.map((w) => w.waitUntilReady()));

  let next = 0;
  const produce = async () => {
    while (!flow.stopped) {
      await flow.room(cfg.batch);
      if (flow.stopped) break;
      const q = queues[next++ % queues.length]!;
      flow.enqueued += cfg.batch;
      await q.addBulk(Array.from({ length: cfg.batch }, () => ({ name: "noop", data: {}, opts: jobOpts })));
    }
  };
  const producers = Array.from({ length: cfg.producers }, produce);
  const meterConn = connect();
  // A thousand workers (two connections each) take a moment to settle into their blocking reads.
  const warmupMs = cfg.warmupMs + (queueCount > 1 ? 1000 : 0);
  const result = await measureWindow(flow, warmupMs, cfg.windowMs, new RedisMeter(meterConn));
  flow.stop();
  await Promise.all(producers);
  await Promise.all(workers.map((w) => w.close(true)));
  await Promise.all(queues.map((q) => q.close()));
  producerConn.disconnect();
  meterConn.disconnect();
  await janitor.clean(`${prefix}:`);
  return result;
}

async function main(): Promise<void> {
  const started = Date.now();
  log(
    `run-queue bench: Redis 127.0.0.1, batch ${cfg.batch}, ${cfg.producers} producers, ${cfg.consumers} consumers, ` +
      `warm-up ${cfg.warmupMs} ms, ${cfg.windowMs} ms measured per throughput figure; ` +
      `${os.cpus().length} CPUs, load average ${loadAverage()}`,
  );

  const ours: Partial<Record<"q10" | "q1000" | "q100000" | "q1000AckMany", number>> = {};
  const bullmq: Partial<Record<1 | 1000, number>> = {};
  let noisy: NoisyResult | null = null;
  const ourThroughput = async (n: number) => {
    const r = await runQueueThroughput(n);
    describe(`run-queue, ${fmtInt(n)} queues (${cfg.activeQueues} active)`, r);
    if (r.unexpected > 0) log(`  WARNING: ${r.unexpected} setup runs from blocked queues were dequeued`);
    ours[`q${n}` as keyof typeof ours] = r.runsPerSec;
  };
  const bullmqThroughputOf = async (queueCount: 1 | 1000) => {
    const concurrency = queueCount === 1 ? cfg.bullmqConcurrency1 : cfg.bullmqConcurrency1000;
    const r = await bullmqThroughput(queueCount, concurrency);
    describe(
      queueCount === 1
        ? `BullMQ, 1 queue (1 worker, concurrency ${concurrency})`
        : `BullMQ, 1,000 queues (1,000 workers, concurrency ${concurrency} each)`,
      r,
    );
    bullmq[queueCount] = r.runsPerSec;
  };
  // Each ratio's two figures are measured one right after the other: the machine's speed drifts
  // over minutes (other tenants of the host), and a pair far apart in time measures that drift.
  const ourCounts = cfg.only.has("rq") ? cfg.queueCounts : [];
  for (const [n, baseline] of [[10, 1], [1000, 1000]] as const) {
    if (ourCounts.includes(n)) await ourThroughput(n);
    if (cfg.only.has("bullmq")) await bullmqThroughputOf(baseline);
  }
  for (const n of ourCounts.filter((count) => count !== 10 && count !== 1000)) await ourThroughput(n);
  if (cfg.only.has("rq") && cfg.queueCounts.includes(1000)) {
    const r = await runQueueThroughput(1000, "many");
    describe(`run-queue, 1,000 queues (10 active), ackMany per dequeued batch`, r);
    if (r.unexpected > 0) log(`  WARNING: ${r.unexpected} setup runs from blocked queues were dequeued`);
    ours.q1000AckMany = r.runsPerSec;
  }
  if (cfg.only.has("rq") || cfg.only.has("cost")) {
    const costs = await runQueueCostByOperation();
    log(
      `run-queue, Redis cost per run by operation (each phase alone, 20,000 runs over 10 queues` +
        `${cfg.costIdleQueues > 0 ? `, ${fmtInt(cfg.costIdleQueues)} idle/blocked queues beside them` : ""}):`,
    );
    for (const { op, cost, callsPerRun } of costs) {
      log(
        `  ${op}: ${fmtMs(cost.cpuUsPerRun)} us Redis CPU/run, ${cost.commandsPerRun.toFixed(1)} commands/run, ` +
          `${callsPerRun.toFixed(3)} API calls/run, ${fmtMs(cost.scriptUsPerCall)} us/script call`,
      );
      if (env.BENCH_VERBOSE) log(`    per run: ${cost.top.slice(0, 12).map((c) => `${c.command} ${c.callsPerRun.toFixed(2)}x ${fmtMs(c.usPerRun)}us`).join(", ")}`);
    }
  }

  if (cfg.only.has("noisy")) {
    noisy = await noisyNeighbour();
    log(
      `noisy neighbour (${fmtInt(cfg.noisyRuns)} runs queued in one env, ${cfg.noisyConsumers} busy consumers, ${noisy.samples} samples): ` +
        `quiet env's run dequeued after p50 ${fmtMs(noisy.waitMs.p50)} ms / max ${fmtMs(noisy.waitMs.max)} ms, ` +
        `${noisy.waitDequeues.p50} / max ${noisy.waitDequeues.max} dequeues ` +
        `(${fmtInt(noisy.runsAhead.p50)} / max ${fmtInt(noisy.runsAhead.max)} other runs ahead of it)` +
        (noisy.lost > 0 ? `; ${noisy.lost} samples not dequeued within 30 s` : ""),
    );
  }

  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : round(a / b, 2));
  const rounded = (a: number | undefined) => (a === undefined ? null : Math.round(a));
  const summary = {
    bench: "queue",
    runsPerSec: {
      q10: rounded(ours.q10),
      q1000: rounded(ours.q1000),
      q100000: rounded(ours.q100000),
      q1000AckMany: rounded(ours.q1000AckMany),
    },
    bullmqRunsPerSec: rounded(bullmq[1]),
    ratioVsBullmq: ratio(ours.q10, bullmq[1]),
    bullmq1000RunsPerSec: rounded(bullmq[1000]),
    ratioVsBullmq1000: ratio(ours.q1000, bullmq[1000]),
    scale100kVs10: ratio(ours.q100000, ours.q10),
    quietTenantWaitMs: noisy && noisy.lost === 0 ? round(noisy.waitMs.max, 1) : null,
    quietTenantWaitDequeues: noisy && noisy.lost === 0 ? noisy.waitDequeues.max : null,
  };
  // Other processes on the machine take CPU from both Redis and the bench; this says how much.
  log(`total ${((Date.now() - started) / 1000).toFixed(0)} s; load average at the end ${loadAverage()}`);
  log(JSON.stringify(summary));
}

main().then(
  () => process.exit(0),
  async (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    await janitor.cleanAll();
    process.exit(1);
  },
);
