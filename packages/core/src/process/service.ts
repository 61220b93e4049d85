import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import { collectDefaultMetrics, type Registry } from "prom-client";

export interface ServiceHandle {
  /** resolves once every part has stopped */
  stop(): Promise<void>;
  /** true while the service can do its work (Redis and Postgres reachable, loops alive) */
  healthy(): Promise<boolean>;
}

export interface RunServiceOptions {
  name: string;
  logger: Logger;
  /** 0 = no health endpoint (the api serves its own /healthz) */
  healthPort: number;
  /** how long a graceful stop may take before the process exits anyway */
  shutdownTimeoutMs: number;
  /** served at GET /metrics beside /healthz, with the process's default metrics added */
  metrics?: Registry;
  start(): Promise<ServiceHandle>;
}

/**
 * Runs one role of the engine as a process: starts it, serves GET /healthz, and on SIGTERM or
 * SIGINT stops it gracefully (handing back in-flight work is each role's stop()), exiting non-zero
 * if that takes longer than the shutdown timeout. Every app's main.ts is config + this.
 */
export async function runService(options: RunServiceOptions): Promise<void> {
  const { logger } = options;
  const handle = await options.start();
  // Process metrics belong to the process, so they are added here, once, not per engine.
  if (options.metrics && options.healthPort > 0) collectDefaultMetrics({ register: options.metrics });
  const health = options.healthPort > 0 ? await serveHealth(options.healthPort, handle, options.metrics) : undefined;
  logger.info({ event: "service:started", healthPort: options.healthPort }, `${options.name} started`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "service:stopping", signal }, `${options.name} stopping`);
    const timer = setTimeout(() => {
      logger.error({ event: "service:shutdown-timeout" }, `${options.name} did not stop in ${options.shutdownTimeoutMs} ms`);
      process.exit(1);
    }, options.shutdownTimeoutMs);
    timer.unref();
    void (async () => {
      try {
        await handle.stop();
        await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
        logger.info({ event: "service:stopped" }, `${options.name} stopped`);
        process.exit(0);
      } catch (error) {
        logger.error({ event: "service:stop-failed", err: error }, `${options.name} failed to stop cleanly`);
        process.exit(1);
      }
    })();
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

function serveHealth(port: number, handle: ServiceHandle, metrics: Registry | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics" && metrics) {
      metrics.metrics().then(
        (body) => res.writeHead(200, { "content-type": metrics.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
      return;
    }
    if (req.method !== "GET" || req.url !== "/healthz") {
      res.writeHead(404).end();
      return;
    }
    handle.healthy().then(
      (ok) => res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify({ ok })),
      () => res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ ok: false })),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(server));
  });
}
