import type { JobProducer } from "../jobs/queues.ts";

/**
 * One delayed BullMQ job per armed tick, with an id derived from (schedule, tick): arming the same
 * tick twice — two scheduler replicas, a reconcile after a restart — adds one job, and BullMQ hands
 * a job to one worker at a time. The schedule row's `nextTickAt` says which tick is current; a job
 * for any other tick is stale and does nothing when it runs.
 */
export class ScheduleArming {
  constructor(private readonly jobs: JobProducer) {}

  static jobId(scheduleId: string, tick: Date): string {
    return `schedule-${scheduleId}-${tick.getTime()}`;
  }

  /** Adds the job that fires `tick` when it is due (at once if it is already past). */
  async arm(scheduleId: string, tick: Date): Promise<void> {
    await this.jobs.enqueue(
      "fireScheduleTick",
      { scheduleId, tickMs: tick.getTime() },
      { jobId: ScheduleArming.jobId(scheduleId, tick), delay: Math.max(0, tick.getTime() - Date.now()) },
    );
  }

  /**
   * Arms the tick again if its job gave up (every attempt failed while Postgres was unreachable,
   * say): the failed job is removed, the tick armed anew. Otherwise the same as `arm`. True when
   * the tick's job had failed.
   */
  async rearm(scheduleId: string, tick: Date): Promise<boolean> {
    const revived = await this.jobs.removeIfFailed("fireScheduleTick", ScheduleArming.jobId(scheduleId, tick));
    await this.arm(scheduleId, tick);
    return revived;
  }

  /** Removes a tick's job if it is still waiting; a job already running finds itself stale. */
  async disarm(scheduleId: string, tick: Date | null): Promise<void> {
    if (tick) await this.jobs.remove("fireScheduleTick", ScheduleArming.jobId(scheduleId, tick));
  }
}
