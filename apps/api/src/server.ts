import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { DispatchClient, type EngineHandle } from "@runengine/core";
import { requireAdmin, requireEnvironment } from "./auth.ts";
import { adminRoutes } from "./admin/adminRoutes.ts";
import { adminPath } from "./admin/layout.ts";
import { bullBoard } from "./bullBoard.ts";
import type { ApiConfig } from "./config.ts";
import { errorHandler, sendError } from "./errors.ts";
import { acceptEmptyJsonBodies } from "./jsonBody.ts";
import { ApiMetrics, recordHttpMetrics } from "./metrics.ts";
import { environmentRoutes } from "./routes/environments.ts";
import { operationsRoutes } from "./routes/operations.ts";
import { queueRoutes } from "./routes/queues.ts";
import { reconcileRoutes } from "./routes/reconcile.ts";
import { runRoutes } from "./routes/runs.ts";
import { scheduleRoutes } from "./routes/schedules.ts";
import { taskRoutes } from "./routes/tasks.ts";
import { waitpointRoutes } from "./routes/waitpoints.ts";
import { workerWaitRoutes } from "./routes/workerWaits.ts";
import { workerRoutes } from "./routes/workers.ts";

export interface BuildServerOptions {
  /** the engine this process serves; its owner closes it after the server */
  handle: EngineHandle;
  config: Pick<ApiConfig, "ADMIN_TOKEN" | "API_BODY_LIMIT_BYTES" | "API_BATCH_BODY_LIMIT_BYTES">;
  logger: Logger;
}

/**
 * The HTTP API: routes over the engine, nothing more. Not listening yet, so tests can `inject`.
 * Closing it answers waiting long polls with no runs, then waits for in-flight requests.
 */
export function buildServer({ handle, config, logger }: BuildServerOptions): FastifyInstance {
  // Typed as Fastify's logger interface so the instance is a plain FastifyInstance for route plugins.
  const httpLogger: FastifyBaseLogger = logger;
  // Request lines are off: the metrics count every request, and errors are logged by the handler.
  const app = Fastify({
    loggerInstance: httpLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.API_BODY_LIMIT_BYTES,
    // Fastify answers a path parameter over its default 100 characters itself, with a 414 in its
    // own error shape; a longer limit lets the routes' schemas refuse it as any bad id.
    routerOptions: { maxParamLength: 2_048 },
  });
  const metrics = new ApiMetrics(handle.engine);
  const dispatch = new DispatchClient(handle.connectRedis(), handle.connectRedis(), handle.engine.resources.relayKeys, logger, (runs) =>
    handle.engine.handBackUndelivered(runs),
  );
  const context = { handle, metrics, dispatch, batchBodyLimitBytes: config.API_BATCH_BODY_LIMIT_BYTES };

  acceptEmptyJsonBodies(app);
  recordHttpMetrics(app, metrics);
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler((request, reply) => sendError(reply, 404, "NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0]}`));
  // preClose runs once the server stops taking requests and before it waits for in-flight ones.
  app.addHook("preClose", async () => {
    await dispatch.close();
  });

  app.register(operationsRoutes(context));
  app.register(bullBoard(handle, config.ADMIN_TOKEN));
  app.register(adminRoutes(handle, config.ADMIN_TOKEN), { prefix: adminPath });
  app.register(
    async (admin) => {
      admin.addHook("onRequest", requireAdmin(config.ADMIN_TOKEN));
      await admin.register(environmentRoutes(context));
      await admin.register(reconcileRoutes(context));
    },
    { prefix: "/api/v1" },
  );
  app.register(
    async (api) => {
      api.addHook("onRequest", requireEnvironment(handle.engine.resources.prisma));
      await api.register(taskRoutes(context));
      await api.register(runRoutes(context));
      await api.register(scheduleRoutes(context));
      await api.register(workerRoutes(context));
      await api.register(workerWaitRoutes(context));
      await api.register(waitpointRoutes(context));
      await api.register(queueRoutes(context));
    },
    { prefix: "/api/v1" },
  );
  return app;
}
