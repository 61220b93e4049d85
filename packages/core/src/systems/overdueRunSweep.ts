import type { Prisma } from "@runengine/database";
import type { ScheduledJobName } from "../jobs/queues.ts";
import { scheduledJobId } from "../jobs/queues.ts";
import type { EngineResources } from "./resources.ts";

export interface OverdueRunSweepOptions {
  /** how long past its moment a run must be before its job counts as lost (default 30 s) */
  graceMs?: number;
  /** runs looked at per kind and pass (default 500) */
  batchSize?: number;
}

export interface SweepResult {
  /** DELAYED runs past their due time whose job was missing or had given up */
  delayed: number;
  /** waiting runs past their TTL whose expiry job was missing or had given up */
  expiring: number;
}

/**
 * The scheduler's safety net for invariant 2 (no run is lost). A run's scheduled job can be
 * missing although Postgres says it is due: the api died between committing a DELAYED run and
 * adding its job, a run was requeued without having started after its expiry job had come and
 * gone, or a job exhausted its attempts during a database outage. Each pass finds runs well past
 * their moment (`graceMs`) and, where their job is missing or failed, arms it to fire now; the
 * job's handler then decides under the run's lock as always. Each re-arm is counted as a repair.
 */
export class OverdueRunSweep {
  private readonly graceMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly resources: EngineResources,
    options: OverdueRunSweepOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 30_000;
    this.batchSize = options.batchSize ?? 500;
  }

  async tick(now = Date.now()): Promise<SweepResult> {
    const cutoff = new Date(now - this.graceMs);
    const delayed = await this.rearmEach("enqueueDelayedRun", { delayedUntil: { lt: cutoff } }, now);
    const expiring = await this.rearmEach("expireRun", { expiringAt: { lt: cutoff } }, now);
    this.resources.metrics.countRepair("lost-delayed", delayed);
    this.resources.metrics.countRepair("lost-expiry", expiring);
    return { delayed, expiring };
  }

  private async rearmEach(name: ScheduledJobName & ("enqueueDelayedRun" | "expireRun"), where: Prisma.TaskRunWhereInput, now: number): Promise<number> {
    const { prisma, jobs } = this.resources;
    const runs = await prisma.taskRun.findMany({ where, select: { id: true }, take: this.batchSize });
    let rearmed = 0;
    for (const { id: runId } of runs) {
      const payload = { runId };
      await jobs.removeIfFailed(name, scheduledJobId(name, payload));
      if (await jobs.isScheduled(name, payload)) continue;
      await jobs.schedule(name, payload, new Date(now));
      rearmed++;
    }
    return rearmed;
  }
}
