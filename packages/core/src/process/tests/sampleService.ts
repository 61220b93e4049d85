import pino from "pino";
import { Counter, Registry } from "prom-client";
import { runService } from "../service.ts";

const metrics = new Registry();
new Counter({ name: "sample_started_total", help: "starts of the sample service", registers: [metrics] }).inc();

const stopDelayMs = Number(process.argv[3] ?? 0);
await runService({
  name: "sample",
  logger: pino({ level: "silent" }),
  healthPort: Number(process.argv[2]),
  shutdownTimeoutMs: 500,
  metrics,
  start: async () => ({
    healthy: async () => true,
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, stopDelayMs));
      console.log("stopped cleanly");
    },
  }),
});
console.log("ready");
