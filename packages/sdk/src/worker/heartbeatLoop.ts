import { sleep } from "../backoff.ts";
import { isStaleReply } from "../http/apiErrors.ts";
import type { WorkerApi } from "./workerApi.ts";
import type { WorkerLogger } from "./workerLogger.ts";

/** The snapshot an attempt acts on; heartbeats may move it (a cancel request writes a new one). */
export interface SnapshotFence {
  snapshotId: string;
}

export interface HeartbeatLoopOptions {
  api: WorkerApi;
  workerId: string;
  runId: string;
  fence: SnapshotFence;
  intervalMs: number;
  logger: WorkerLogger;
  /** ends the loop: the attempt has its outcome */
  signal: AbortSignal;
}

/**
 * Heartbeats every `intervalMs` until `signal` aborts or the engine answers something other than
 * `continue`, which it returns. A heartbeat that cannot get through is logged and the loop goes
 * on: the engine's deadline is several intervals long, so one lost beat is not fatal.
 */
export async function heartbeatUntilStopped(options: HeartbeatLoopOptions): Promise<"cancel" | "stale" | undefined> {
  const { api, fence, signal } = options;
  for (;;) {
    await sleep(options.intervalMs, signal);
    if (signal.aborted) return undefined;
    try {
      const reply = await api.heartbeat(options.runId, { workerId: options.workerId, snapshotId: fence.snapshotId }, signal);
      if (signal.aborted) return undefined;
      if (reply.action === "stale") return "stale";
      fence.snapshotId = reply.snapshotId;
      if (reply.action === "cancel") return "cancel";
    } catch (error) {
      if (signal.aborted) return undefined;
      if (isStaleReply(error)) return "stale";
      options.logger.warn("heartbeat:failed", { runId: options.runId, error });
    }
  }
}
