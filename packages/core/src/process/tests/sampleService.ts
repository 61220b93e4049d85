import pino from "pino";
import { runService } from "../service.ts";

const stopDelayMs = Number(process.argv[3] ?? 0);
await runService({
  name: "sample",
  logger: pino({ level: "silent" }),
  healthPort: Number(process.argv[2]),
  shutdownTimeoutMs: 500,
  start: async () => ({
    healthy: async () => true,
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, stopDelayMs));
      console.log("stopped cleanly");
    },
  }),
});
console.log("ready");
