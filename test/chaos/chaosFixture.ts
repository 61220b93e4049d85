import type { Redis } from "ioredis";
import { expect } from "vitest";
import { deleteKeysWithPrefix, uniqueRedisPrefix, type ManagedProcess, type Role, type TestDatabase } from "@runengine/testing";
import { RunQueue } from "@runengine/run-queue";
import { E2EEngine, waitFor } from "../e2e/engineFixture.ts";

/**
 * Short deadlines, so that what a crash leaves behind is found in seconds: heartbeats, the heartbeat
 * monitor, the queue reclaimer and the reconciler. Still generous next to the worker's 300 ms
 * heartbeat interval, so a loaded machine does not make live attempts look stalled.
 */
export const fastRecoveryEnv: NodeJS.ProcessEnv = {
  HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: "5000",
  HEARTBEAT_EXECUTING_TIMEOUT_MS: "5000",
  HEARTBEAT_PENDING_CANCEL_TIMEOUT_MS: "5000",
  HEARTBEAT_MONITOR_INTERVAL_MS: "250",
  QUEUE_RECLAIM_INTERVAL_MS: "1000",
  RECONCILE_INTERVAL_MS: "1000",
  RECONCILE_STRAY_GRACE_MS: "3000",
  SHUTDOWN_TIMEOUT_MS: "5000",
  LOG_LEVEL: "warn",
};

/**
 * Every key under `prefix` disappears at one instant, as when Redis restarts without its data: one
 * script finds and deletes them all. (A SCAN-and-delete loop takes seconds under load and keeps
 * deleting after the reconciler has noticed the loss, so it would also delete what the rebuild had
 * just restored: a loss spread over time that no real Redis has.) The run queue's function
 * library goes right after, as a restart loses it too; other processes of this code on this Redis
 * load it again at their next call, as the engine's must.
 */
export async function loseRedisKeys(redis: Redis, prefix: string): Promise<number> {
  const script = `
    local keys = redis.call("KEYS", ARGV[1])
    for i = 1, #keys, 1000 do redis.call("UNLINK", unpack(keys, i, math.min(i + 999, #keys))) end
    return #keys`;
  const lost = (await redis.eval(script, 0, `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`)) as number;
  await redis.call("FUNCTION", "DELETE", RunQueue.functionLibrary);
  return lost;
}

/** An engine of real processes and the chaos tasks' observations, under a prefix of their own. */
export class ChaosRig {
  private constructor(
    readonly e: E2EEngine,
    readonly observations: string,
  ) {}

  static async start(
    label: string,
    options: { env?: NodeJS.ProcessEnv; replicas?: Partial<Record<Role, number>>; database?: TestDatabase } = {},
  ): Promise<ChaosRig> {
    const e = await E2EEngine.start(label, { ...fastRecoveryEnv, ...options.env }, {
      ...(options.replicas ? { replicas: options.replicas } : {}),
      ...(options.database ? { database: options.database } : {}),
    });
    return new ChaosRig(e, uniqueRedisPrefix(`${label}-obs`));
  }

  /**
   * A `runengine-worker` with the chaos tasks and a fast heartbeat, once registered (with room for
   * a machine loaded by the processes of the test).
   */
  startWorker(name: string, concurrency: number, env: NodeJS.ProcessEnv = {}): Promise<ManagedProcess> {
    return this.e.startWorker(name, concurrency, {
      tasksFile: "chaosTasks.ts",
      version: "chaos-1",
      env: { CHAOS_OBSERVATIONS_PREFIX: this.observations, RUNENGINE_WORKER_HEARTBEAT_INTERVAL_MS: "300", ...env },
      registrationTimeoutMs: 120_000,
    });
  }

  /**
   * Triggers `count` runs of chaos-tracked in batches of 100. Each item has an idempotency key, so
   * a batch the api died in the middle of is sent again without creating runs twice.
   */
  async triggerTracked(count: number, payload: { ms: number; firstAttemptMs?: number }, label: string): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < count; start += 100) {
      const items = Array.from({ length: Math.min(100, count - start) }, (_, i) => ({
        payload,
        options: { idempotencyKey: `${label}-${start + i}` },
      }));
      ids.push(...(await this.#batchUntilAccepted(items)));
    }
    return ids;
  }

  /** A batch the api may die in the middle of: sent again (for up to 5 minutes) until it is answered. */
  async #batchUntilAccepted(items: { payload: unknown; options: { idempotencyKey: string } }[]): Promise<string[]> {
    const deadline = Date.now() + 300_000;
    for (;;) {
      try {
        const batch = await this.e.client.batchTrigger("chaos-tracked", items);
        return batch.runs.map((run) => run.id);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  /** Waits until every run has completed (a final state: its newest snapshot is FINISHED). */
  async waitAllFinished(runIds: readonly string[], timeoutMs: number): Promise<void> {
    const prisma = this.e.db.prisma;
    let unfinished = runIds.length;
    try {
      await waitFor(
        async () => {
          const finished = await prisma.taskRun.count({
            where: { id: { in: [...runIds] }, completedAt: { not: null } },
          });
          unfinished = runIds.length - finished;
          return unfinished === 0;
        },
        timeoutMs,
        500,
      );
    } catch (error) {
      throw new Error(
        `${unfinished} of ${runIds.length} runs did not finish in ${timeoutMs} ms:\n${await this.describeUnfinished(runIds)}`,
        { cause: error },
      );
    }
  }

  /** The unfinished runs (up to 10) with their status and snapshot history, for a failure message. */
  async describeUnfinished(runIds: readonly string[]): Promise<string> {
    const runs = await this.e.db.prisma.taskRun.findMany({
      where: { id: { in: [...runIds] }, completedAt: null },
      select: { id: true, status: true, queue: true, attemptNumber: true },
      take: 10,
    });
    const lines: string[] = [];
    for (const run of runs) {
      const history = await this.e.db.prisma.executionSnapshot.findMany({
        where: { runId: run.id },
        orderBy: { sequence: "asc" },
        select: { executionStatus: true, description: true, isValid: true, createdAt: true },
      });
      const queueEntry = await this.e.runQueue.explain(run.id).catch((error: unknown) => String(error));
      lines.push(`${run.id} ${run.status} attempt ${run.attemptNumber} queue ${run.queue} redis ${JSON.stringify(queueEntry)}`);
      for (const s of history) {
        lines.push(`  ${s.createdAt.toISOString()} ${s.executionStatus}${s.isValid ? "" : " (invalid)"} ${s.description}`);
      }
    }
    return lines.join("\n");
  }

  /**
   * The invariants every chaos test ends with. Every run's newest snapshot is FINISHED; its
   * attempts started one at a time (each attempt number once, increasing, each start following a
   * PENDING_EXECUTING that followed a hand-over from the queue); the task code saw at most one
   * attempt of a run executing at once; nothing is left queued or in flight.
   */
  async expectInvariants(runIds: readonly string[], options: { checkWorkerOverlap?: boolean } = {}): Promise<void> {
    const snapshots = await this.e.db.prisma.executionSnapshot.findMany({
      where: { runId: { in: [...runIds] }, isValid: true },
      orderBy: { sequence: "asc" },
      select: { runId: true, executionStatus: true, attemptNumber: true },
    });
    const byRun = new Map<string, typeof snapshots>();
    for (const snapshot of snapshots) {
      const list = byRun.get(snapshot.runId);
      if (list) list.push(snapshot);
      else byRun.set(snapshot.runId, [snapshot]);
    }
    const problems: string[] = [];
    for (const runId of runIds) {
      const history = byRun.get(runId) ?? [];
      if (history.at(-1)?.executionStatus !== "FINISHED") problems.push(`${runId} ends ${history.at(-1)?.executionStatus}`);
      let lastAttempt = 0;
      history.forEach((snapshot, i) => {
        const previous = history[i - 1];
        if (snapshot.executionStatus !== "EXECUTING" || previous?.executionStatus !== "PENDING_EXECUTING") return;
        const attempt = snapshot.attemptNumber ?? 0;
        if (attempt !== lastAttempt + 1) problems.push(`${runId}: attempt ${attempt} started after attempt ${lastAttempt}`);
        lastAttempt = attempt;
      });
    }
    if (problems.length > 0) throw new Error(`invariants broken:\n${problems.join("\n")}`);
    if (options.checkWorkerOverlap ?? true) {
      const overlapping = await this.e.redis.zrangebyscore(`${this.observations}max`, 2, "+inf");
      expect(overlapping).toEqual([]);
    }
    await expect
      .poll(async () => this.e.runQueue.stats({ envId: this.e.environment.id }), { timeout: 15_000, interval: 250 })
      .toMatchObject({ queued: 0, inFlight: 0 });
  }

  async close(): Promise<void> {
    await deleteKeysWithPrefix(this.e.redis, this.observations);
    await this.e.close();
  }
}
