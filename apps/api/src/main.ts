import { writeFile } from "node:fs/promises";
import { parseConfigOrExit, runService, startEngineForRole, type Logger } from "@runengine/core";
import { loadApiConfig, type ApiConfig } from "./config.ts";
import { createFirstEnvironment } from "./developmentEnvironment.ts";
import { isHealthy } from "./health.ts";
import { buildServer } from "./server.ts";

/** Shows a first start's key where a person (stdout) and the dev launcher (a file) can find it. */
async function announceApiKey(apiKey: string, environmentId: string, config: ApiConfig, logger: Logger): Promise<void> {
  process.stdout.write(`RUNENGINE_API_KEY=${apiKey}\n`);
  logger.info({ event: "environment:created", environmentId }, "first start: created the development environment; its API key is printed above");
  if (config.RUNENGINE_DEV_API_KEY_FILE) await writeFile(config.RUNENGINE_DEV_API_KEY_FILE, `${apiKey}\n`, { mode: 0o600 });
}

const config = loadApiConfig(process.env, parseConfigOrExit);
const { logger, handle } = startEngineForRole("api", config);

await runService({
  name: "api",
  logger,
  // the api serves /healthz on its own port
  healthPort: 0,
  shutdownTimeoutMs: config.API_SHUTDOWN_TIMEOUT_MS,
  async start() {
    const created = await createFirstEnvironment(handle);
    if (created) await announceApiKey(created.apiKey, created.environmentId, config, logger);

    const app = buildServer({ handle, config, logger });
    const address = await app.listen({ port: config.API_PORT, host: config.API_HOST });
    logger.info({ event: "api:listening", address }, `api listening on ${address}`);
    return {
      healthy: () => isHealthy(handle),
      async stop() {
        await app.close();
        await handle.close();
      },
    };
  },
});
