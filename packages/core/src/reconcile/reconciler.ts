import type { EnqueueMessage } from "@runengine/run-queue";
import { publishWorkAvailable } from "../dispatch/dispatchRelay.ts";
import { holdsConcurrency } from "../state-machine/statuses.ts";
import type { EngineResources } from "../systems/resources.ts";
import { queueMessage } from "../systems/runQueueEntry.ts";
import { latestSnapshotsOf, pageOfLiveRuns, type LatestSnapshotRow, type LiveRunRow } from "./liveRuns.ts";
import { freeStraySlot, restoreHeldRun, restoreLostHeartbeat, type RepairKind } from "./slotRepairs.ts";
import { heartbeatTimeoutMs } from "../heartbeats/heartbeatDeadline.ts";

export interface ReconcilerOptions {
  /**
   * How long an in-flight queue entry of a run that is neither final nor on a worker must stay
   * unchanged before its slot is freed (default 30 s). A run is in that state for a moment between
   * a dequeue and the dispatcher's lock on it; final and unknown runs are freed at once.
   */
  strayGraceMs?: number;
  /** in-flight entries and Postgres rows read per round trip (default 500) */
  pageSize?: number;
  /** how long a rebuild may take before another process may start one (default 10 minutes) */
  rebuildLeaseMs?: number;
  /** runs repaired under their locks at once (default 16) */
  concurrency?: number;
}

export interface ReconcileResult {
  /** true when this call rebuilt the queue from Postgres */
  rebuilt: boolean;
  repairs: Partial<Record<RepairKind, number>>;
}

/**
 * Keeps the Redis side of the engine (run queue slots and entries, heartbeat deadlines, delayed
 * jobs) equal to what Postgres says, and counts every repair in the
 * `runengine_reconciler_repairs_total` metric.
 *
 * - tick(), run every few seconds: frees in-flight slots no run holds (final, unknown, or a run no
 *   worker has for longer than strayGraceMs), and rebuilds the whole queue when Redis lost its data.
 * - rebuild(), on demand: queue limits, queued runs, the slots and heartbeats of runs on workers,
 *   the jobs of delayed runs, all from Postgres; every step is idempotent, so it is safe while the
 *   engine runs and in several processes at once.
 */
export class Reconciler {
  readonly #strayGraceMs: number;
  readonly #pageSize: number;
  readonly #rebuildLeaseMs: number;
  readonly #concurrency: number;
  /** in-flight entries of runs no worker holds, with the snapshot and time they were first seen */
  #suspects = new Map<string, { snapshotId: string; since: number }>();

  constructor(
    private readonly resources: EngineResources,
    options: ReconcilerOptions = {},
  ) {
    this.#strayGraceMs = options.strayGraceMs ?? 30_000;
    this.#pageSize = options.pageSize ?? 500;
    this.#rebuildLeaseMs = options.rebuildLeaseMs ?? 10 * 60_000;
    this.#concurrency = options.concurrency ?? 16;
  }

  /** One continuous pass: a rebuild if Redis lost its data, then the in-flight slots no run holds. */
  async tick(now = Date.now()): Promise<ReconcileResult> {
    const result: ReconcileResult = { rebuilt: false, repairs: {} };
    await this.#rebuildIfLost(result);
    await this.#freeStraySlots(now, result);
    this.#report(result);
    return result;
  }

  /**
   * Rebuilds the queue from Postgres if Redis has no record of it having been built (it lost its
   * data, or is new); a dispatcher calls this before it starts dequeuing.
   */
  async rebuildIfLost(): Promise<ReconcileResult> {
    const result: ReconcileResult = { rebuilt: false, repairs: {} };
    await this.#rebuildIfLost(result);
    this.#report(result);
    return result;
  }

  /** Rebuilds the queue from Postgres now (the admin reconcile command), then frees stray slots. */
  async rebuild(): Promise<ReconcileResult> {
    const result: ReconcileResult = { rebuilt: false, repairs: {} };
    await this.#rebuildClaimed(result);
    await this.#freeStraySlots(Date.now(), result);
    this.#report(result);
    return result;
  }

  async #rebuildIfLost(result: ReconcileResult): Promise<void> {
    if (!(await this.resources.runQueue.claimRebuild(this.#rebuildLeaseMs))) return;
    this.resources.logger.warn({ event: "reconcile:rebuild-needed" }, "the run queue has no record of being built; rebuilding it from Postgres");
    await this.#rebuildClaimed(result);
  }

  async #rebuildClaimed(result: ReconcileResult): Promise<void> {
    const { runQueue, logger } = this.resources;
    const started = Date.now();
    await this.#applyLimits();
    let afterId = "";
    for (;;) {
      const page = await pageOfLiveRuns(this.resources.prisma, { afterId, limit: this.#pageSize });
      if (page.length === 0) break;
      await this.#restorePage(page, result);
      afterId = (page[page.length - 1] as LiveRunRow).runId;
    }
    await runQueue.markBuilt();
    result.rebuilt = true;
    logger.info({ event: "reconcile:rebuilt", ms: Date.now() - started, repairs: result.repairs }, "run queue rebuilt from Postgres");
    await publishWorkAvailable(this.resources.redis, this.resources.relayKeys);
  }

  /** Concurrency limits, pauses and rates of every environment and queue, as Postgres has them. */
  async #applyLimits(): Promise<void> {
    const { prisma, runQueue } = this.resources;
    const environments = await prisma.runtimeEnvironment.findMany({ select: { id: true, concurrencyLimit: true } });
    await this.#inParallel(environments, (environment) => runQueue.setConcurrencyLimit({ envId: environment.id, limit: environment.concurrencyLimit }));
    const queues = await prisma.taskQueue.findMany();
    await this.#inParallel(queues, async (queue) => {
      const target = { envId: queue.environmentId, queue: queue.name };
      await runQueue.setConcurrencyLimit({ ...target, limit: queue.concurrencyLimit });
      await (queue.paused ? runQueue.pause(target) : runQueue.resume(target));
      if (queue.rateLimit !== null && queue.rateLimitPeriodMs !== null) {
        await runQueue.setRateLimit({ ...target, limit: queue.rateLimit, periodMs: queue.rateLimitPeriodMs, perKey: queue.rateLimitPerKey });
      }
    });
  }

  async #restorePage(page: readonly LiveRunRow[], result: ReconcileResult): Promise<void> {
    const { runQueue, jobs } = this.resources;
    const queued: EnqueueMessage[] = [];
    const held: LiveRunRow[] = [];
    const delayed: LiveRunRow[] = [];
    for (const run of page) {
      if (run.executionStatus === "QUEUED") {
        queued.push(queueMessage(run.runId, run, run.attemptNumber));
      } else if (holdsConcurrency(run.executionStatus)) held.push(run);
      else if (run.executionStatus === "DELAYED" && run.delayUntil !== null) delayed.push(run);
    }
    // A queued run is enqueued without its lock: enqueue is a no-op for a run the queue knows, and a
    // run that finished meanwhile is dropped by the dispatcher when it dequeues it.
    const enqueued = queued.length > 0 ? await runQueue.enqueueMany(queued) : [];
    count(result, "lost-queued", enqueued.filter((outcome) => outcome === "created").length);
    await this.#inParallel(held, async (run) => {
      for (const kind of await restoreHeldRun(this.resources, run)) count(result, kind, 1);
    });
    await this.#inParallel(delayed, async (run) => {
      if (await jobs.isScheduled("enqueueDelayedRun", { runId: run.runId })) return;
      await jobs.schedule("enqueueDelayedRun", { runId: run.runId }, run.delayUntil as Date);
      count(result, "lost-delayed", 1);
    });
  }

  /**
   * Walks every environment's in-flight entries and frees those whose run does not hold a slot in
   * Postgres: at once for final or unknown runs, after strayGraceMs for the others. A run a worker
   * holds whose snapshot has had no heartbeat deadline for strayGraceMs gets one (its state was
   * committed by a process that died before tracking it), so a dead worker's run is still found.
   */
  async #freeStraySlots(now: number, result: ReconcileResult): Promise<void> {
    const { prisma, runQueue } = this.resources;
    const suspects = new Map<string, { snapshotId: string; since: number }>();
    const environments = await prisma.runtimeEnvironment.findMany({ select: { id: true } });
    for (const { id: envId } of environments) {
      for (let offset = 0; ; offset += this.#pageSize) {
        const entries = await runQueue.inFlight({ envId, offset, count: this.#pageSize });
        if (entries.length === 0) break;
        const latest = await latestSnapshotsOf(prisma, entries.map((entry) => entry.runId));
        const repairs: { runId: string; confirmed: string | undefined }[] = [];
        const deadlineRepairs: { runId: string; confirmed: string }[] = [];
        const suspect = (runId: string, snapshotId: string): boolean => {
          const seen = this.#suspects.get(runId);
          const since = seen?.snapshotId === snapshotId ? seen.since : now;
          suspects.set(runId, { snapshotId, since });
          return now - since >= this.#strayGraceMs;
        };
        const held = entries.flatMap(({ runId }) => {
          const snapshot = latest.get(runId);
          return snapshot && holdsConcurrency(snapshot.executionStatus) ? [{ runId, snapshot }] : [];
        });
        const deadlines = await Promise.all(held.map(({ runId, snapshot }) => this.#hasDeadline(envId, runId, snapshot)));
        held.forEach(({ runId, snapshot }, i) => {
          if (!deadlines[i] && suspect(runId, snapshot.snapshotId)) deadlineRepairs.push({ runId, confirmed: snapshot.snapshotId });
        });
        for (const { runId } of entries) {
          const snapshot = latest.get(runId);
          if (snapshot && holdsConcurrency(snapshot.executionStatus)) continue;
          if (!snapshot || snapshot.executionStatus === "FINISHED") {
            repairs.push({ runId, confirmed: undefined });
            continue;
          }
          if (suspect(runId, snapshot.snapshotId)) repairs.push({ runId, confirmed: snapshot.snapshotId });
        }
        await this.#inParallel(deadlineRepairs, async ({ runId, confirmed }) => {
          const kind = await restoreLostHeartbeat(this.resources, envId, runId, confirmed);
          if (kind) {
            count(result, kind, 1);
            suspects.delete(runId);
          }
        });
        let freed = 0;
        await this.#inParallel(repairs, async ({ runId, confirmed }) => {
          const kind = await freeStraySlot(this.resources, envId, runId, confirmed);
          if (kind) {
            count(result, kind, 1);
            suspects.delete(runId);
            freed++;
          }
        });
        // Freed entries left the set, so the next page starts that much earlier.
        offset -= freed;
        if (entries.length < this.#pageSize) break;
      }
    }
    this.#suspects = suspects;
  }

  /** Does the snapshot have its heartbeat deadline (or a status that needs none)? */
  async #hasDeadline(environmentId: string, runId: string, snapshot: LatestSnapshotRow): Promise<boolean> {
    const { heartbeats, settings } = this.resources;
    if (heartbeatTimeoutMs(snapshot.executionStatus, settings.heartbeatTimeouts) === undefined) return true;
    return (await heartbeats.deadlineOf({ environmentId, runId, snapshotId: snapshot.snapshotId })) !== null;
  }

  #report(result: ReconcileResult): void {
    const { metrics, logger } = this.resources;
    const entries = Object.entries(result.repairs) as [RepairKind, number][];
    for (const [kind, n] of entries) metrics.countRepair(kind, n);
    if (entries.length > 0) logger.warn({ event: "reconcile:repaired", repairs: result.repairs }, "reconciler repaired divergences from Postgres");
  }

  async #inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    for (let start = 0; start < items.length; start += this.#concurrency) {
      await Promise.all(items.slice(start, start + this.#concurrency).map(work));
    }
  }
}

function count(result: ReconcileResult, kind: RepairKind, n: number): void {
  if (n > 0) result.repairs[kind] = (result.repairs[kind] ?? 0) + n;
}
