import { z } from "zod";
import { defaultEngineSettings, type EngineSettings } from "../systems/resources.ts";

const milliseconds = z.coerce.number().int().min(100);
const { heartbeatTimeouts } = defaultEngineSettings;

/** Settings every role shares, so the api, the dispatcher and the monitor agree on deadlines. */
export const engineConfig = z.object({
  HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: milliseconds
    .default(heartbeatTimeouts.pendingExecutingMs)
    .describe("A run dequeued for a worker that has not started it after this long is requeued"),
  HEARTBEAT_EXECUTING_TIMEOUT_MS: milliseconds
    .default(heartbeatTimeouts.executingMs)
    .describe("An executing attempt without a heartbeat for this long fails as stalled (then retries)"),
  HEARTBEAT_PENDING_CANCEL_TIMEOUT_MS: milliseconds
    .default(heartbeatTimeouts.pendingCancelMs)
    .describe("A cancel the worker has not confirmed after this long is finished by the monitor"),
  HEARTBEAT_SUSPENDED_RECHECK_MS: milliseconds
    .default(heartbeatTimeouts.suspendedRecheckMs)
    .describe("A suspended run's waitpoints are checked again this often, should the job that resumes it have been lost"),
  MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(defaultEngineSettings.maxPayloadBytes)
    .describe("Largest trigger payload, in bytes of JSON"),
});
export type EngineConfig = z.output<typeof engineConfig>;

export function engineSettings(config: EngineConfig): EngineSettings {
  return {
    heartbeatTimeouts: {
      pendingExecutingMs: config.HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS,
      executingMs: config.HEARTBEAT_EXECUTING_TIMEOUT_MS,
      pendingCancelMs: config.HEARTBEAT_PENDING_CANCEL_TIMEOUT_MS,
      suspendedRecheckMs: config.HEARTBEAT_SUSPENDED_RECHECK_MS,
    },
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
  };
}
