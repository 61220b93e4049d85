import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { runCountsByStatus, type EnvironmentQueuesView, type RunEngine } from "@runengine/core";

/** What one scrape reads from Postgres and the run queue, shared by every gauge of that scrape. */
interface ScrapeState {
  runs: { environment: string; status: string; count: number }[];
  queues: EnvironmentQueuesView[];
}

/** Scrapes that follow within this long reuse one read: the gauges are collected one by one. */
const scrapeReuseMs = 1_000;

/**
 * The api's Prometheus metrics, on a registry of its own so several servers can share a process
 * (tests). `exposition` is what /metrics serves: these, the engine's own (lock waits, trigger to
 * start, overdue heartbeats, reconciler repairs) and gauges read at scrape time from Postgres and
 * the run queue (runs by status, queue depth, in flight against limits).
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly exposition: Registry;
  readonly httpRequests = new Counter({
    name: "runengine_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "runengine_http_request_duration_seconds",
    help: "Time to answer an HTTP request (a worker's dequeue includes its long-poll wait)",
    labelNames: ["method", "route"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  readonly runsTriggered = new Counter({
    name: "runengine_runs_triggered_total",
    help: "Runs created by trigger and batch trigger (an idempotency key hit creates none)",
    registers: [this.registry],
  });

  private scrape: { at: number; state: Promise<ScrapeState> } | undefined;

  constructor(private readonly engine: RunEngine) {
    collectDefaultMetrics({ register: this.registry });
    this.registerStateGauges();
    this.exposition = Registry.merge([this.registry, engine.resources.metrics.registry]);
  }

  private state(): Promise<ScrapeState> {
    const now = Date.now();
    if (!this.scrape || now - this.scrape.at > scrapeReuseMs) {
      const state = this.readState();
      // a failed read is not reused: the next gauge or scrape tries again
      state.catch(() => (this.scrape = undefined));
      this.scrape = { at: now, state };
    }
    return this.scrape.state;
  }

  private async readState(): Promise<ScrapeState> {
    const { prisma } = this.engine.resources;
    const [groups, environments, queues] = await Promise.all([
      runCountsByStatus(prisma),
      prisma.runtimeEnvironment.findMany({ select: { id: true, name: true } }),
      this.engine.queueConsole.overview(),
    ]);
    const names = new Map(environments.map((environment) => [environment.id, environment.name]));
    return {
      runs: groups.map((group) => ({ environment: names.get(group.environmentId) ?? group.environmentId, status: group.status, count: group.count })),
      queues,
    };
  }

  private registerStateGauges(): void {
    const gauge = (name: string, help: string, labelNames: readonly string[], read: (state: ScrapeState, set: (labels: Record<string, string>, value: number) => void) => void) => {
      const metrics = this;
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        async collect() {
          const state = await metrics.state();
          this.reset();
          read(state, (labels, value) => this.set(labels, value));
        },
      });
    };
    gauge("runengine_runs", "Runs by environment and status (final statuses included)", ["environment", "status"], (state, set) => {
      for (const row of state.runs) set({ environment: row.environment, status: row.status }, row.count);
    });
    gauge("runengine_environment_queued", "Runs waiting in the run queue, per environment", ["environment"], (state, set) => {
      for (const env of state.queues) set({ environment: env.name }, env.queued);
    });
    gauge("runengine_environment_in_flight", "Runs holding a concurrency slot, per environment", ["environment"], (state, set) => {
      for (const env of state.queues) set({ environment: env.name }, env.inFlight);
    });
    gauge("runengine_environment_concurrency_limit", "Concurrency limit per environment (absent when unlimited)", ["environment"], (state, set) => {
      for (const env of state.queues) if (env.limit !== null) set({ environment: env.name }, env.limit);
    });
    gauge("runengine_queue_queued", "Runs waiting in the run queue (queue depth), per environment and queue", ["environment", "queue"], (state, set) => {
      for (const env of state.queues) for (const queue of env.queues) set({ environment: env.name, queue: queue.name }, queue.queued);
    });
    gauge("runengine_queue_in_flight", "Runs holding a slot of the queue, per environment and queue", ["environment", "queue"], (state, set) => {
      for (const env of state.queues) for (const queue of env.queues) set({ environment: env.name, queue: queue.name }, queue.inFlight);
    });
    gauge("runengine_queue_concurrency_limit", "Concurrency limit per queue (absent when unlimited)", ["environment", "queue"], (state, set) => {
      for (const env of state.queues) for (const queue of env.queues) if (queue.limit !== null) set({ environment: env.name, queue: queue.name }, queue.limit);
    });
    gauge("runengine_queue_paused", "1 when the queue is paused", ["environment", "queue"], (state, set) => {
      for (const env of state.queues) for (const queue of env.queues) set({ environment: env.name, queue: queue.name }, queue.paused ? 1 : 0);
    });
  }
}

/** Counts and times every answered request, labelled by route pattern (never by raw URL: ids would explode the series). */
export function recordHttpMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1_000);
  });
}
