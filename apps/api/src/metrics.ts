import type { FastifyInstance } from "fastify";
import { collectDefaultMetrics, Counter, Histogram, Registry } from "prom-client";

/** The api's Prometheus metrics, on a registry of its own so several servers can share a process (tests). */
export class ApiMetrics {
  readonly registry = new Registry();
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

  constructor() {
    collectDefaultMetrics({ register: this.registry });
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
