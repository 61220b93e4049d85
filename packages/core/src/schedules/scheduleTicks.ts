import { NotFoundError, ValidationError } from "../errors/runEngineError.ts";
import type { JobPayload } from "../jobs/catalog.ts";
import type { EngineResources } from "../systems/resources.ts";
import type { TriggerSystem } from "../systems/triggerSystem.ts";
import { nextTick } from "./cron.ts";
import { ScheduleArming } from "./scheduleArming.ts";

export interface ScheduleTicksOptions {
  /**
   * How far back missed ticks are still fired after the schedulers were down or fell behind
   * (default 5 minutes: a restart or a loaded machine loses no tick). The tick that was armed
   * always fires, late; ticks older than this behind it are skipped, so a long outage does not
   * turn an every-second schedule into a burst of thousands of runs.
   */
  catchUpWindowMs?: number;
}

/** What handling a tick job did. */
export type TickOutcome = "fired" | "refused" | "stale" | "inactive";

/** The idempotency key of a tick's run: the database refuses a second run for one tick. */
export const scheduledRunIdempotencyKey = (scheduleId: string, tick: Date) => `schedule:${scheduleId}:${tick.toISOString()}`;

/**
 * Fires schedule ticks (the scheduler role's `fireScheduleTick` jobs) and re-arms every active
 * schedule after a restart. Each tick is fired at most once, whatever the number of scheduler
 * replicas: its job id is unique per (schedule, tick); the tick must still be the schedule's
 * `nextTickAt` to fire; its run carries a per-tick idempotency key under a unique index; and the
 * schedule only moves to its next tick by a compare-and-set on the tick it fired.
 */
export class ScheduleTicks {
  private readonly arming: ScheduleArming;
  private readonly catchUpWindowMs: number;

  constructor(
    private readonly resources: EngineResources,
    private readonly triggers: TriggerSystem,
    options: ScheduleTicksOptions = {},
  ) {
    this.arming = new ScheduleArming(resources.jobs);
    this.catchUpWindowMs = options.catchUpWindowMs ?? 300_000;
  }

  async fire(payload: JobPayload<"fireScheduleTick">): Promise<TickOutcome> {
    const outcome = await this.fireTick(payload);
    this.resources.metrics.scheduleTicks.inc({ outcome });
    return outcome;
  }

  private async fireTick({ scheduleId, tickMs }: JobPayload<"fireScheduleTick">): Promise<TickOutcome> {
    const { prisma, logger, metrics } = this.resources;
    const tick = new Date(tickMs);
    const schedule = await prisma.schedule.findUnique({
      where: { id: scheduleId },
      include: { environment: { select: { id: true, organizationId: true, name: true, type: true, concurrencyLimit: true } } },
    });
    if (!schedule || !schedule.active) return "inactive";
    if (schedule.nextTickAt?.getTime() !== tickMs) {
      // Re-timed, or already fired by another replica: make sure the current tick is armed.
      if (schedule.nextTickAt) await this.arming.arm(schedule.id, schedule.nextTickAt);
      return "stale";
    }

    let outcome: TickOutcome = "fired";
    try {
      const { id: runId, isCached } = await this.triggers.trigger({
        environment: schedule.environment,
        taskId: schedule.taskIdentifier,
        payload: {
          scheduleId: schedule.id,
          timestamp: tick.toISOString(),
          ...(schedule.lastTickAt ? { lastTimestamp: schedule.lastTickAt.toISOString() } : {}),
          ...(schedule.externalId ? { externalId: schedule.externalId } : {}),
          timezone: schedule.timezone,
        },
        options: { idempotencyKey: scheduledRunIdempotencyKey(schedule.id, tick) },
        scheduleId: schedule.id,
      });
      const lagMs = Date.now() - tickMs;
      if (!isCached) metrics.scheduleTickLag.observe(lagMs / 1_000);
      logger.info({ event: "schedule:fired", scheduleId, runId, tick: tick.toISOString(), lagMs, isCached }, "schedule tick fired");
    } catch (error) {
      // The engine refused the run (no deployment declares the task any more, the payload is too
      // large): retrying cannot help, so the tick is skipped and the schedule moves on. Anything
      // else (Postgres or Redis unreachable) is retried by BullMQ.
      if (!(error instanceof NotFoundError || error instanceof ValidationError)) throw error;
      logger.warn({ event: "schedule:tick-refused", scheduleId, tick: tick.toISOString(), err: error }, "schedule tick refused");
      outcome = "refused";
    }

    const after = new Date(Math.max(tickMs, Date.now() - this.catchUpWindowMs));
    const next = nextTick(schedule.cron, schedule.timezone, after);
    const advanced = await prisma.schedule.updateMany({
      where: { id: schedule.id, active: true, nextTickAt: tick },
      data: { lastTickAt: tick, nextTickAt: next },
    });
    if (advanced.count === 1) await this.arming.arm(schedule.id, next);
    return outcome;
  }

  /**
   * Arms the current tick of every active schedule: run when a scheduler starts and then now and
   * again, so ticks whose jobs were lost (Redis restored from an old snapshot, flushed) or gave up
   * (every attempt failed during an outage) fire again. Arming an armed tick adds nothing.
   */
  async armAll(): Promise<{ active: number; revived: number }> {
    const { prisma, logger } = this.resources;
    let active = 0;
    let revived = 0;
    let cursor: string | undefined;
    for (;;) {
      const page = await prisma.schedule.findMany({
        where: { active: true, nextTickAt: { not: null } },
        orderBy: { id: "asc" },
        take: 500,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
        select: { id: true, nextTickAt: true },
      });
      for (const schedule of page) {
        if (!schedule.nextTickAt || !(await this.arming.rearm(schedule.id, schedule.nextTickAt))) continue;
        revived += 1;
        logger.warn({ event: "schedule:revived", scheduleId: schedule.id, tick: schedule.nextTickAt.toISOString() }, "failed schedule tick armed again");
      }
      active += page.length;
      cursor = page.at(-1)?.id;
      if (page.length < 500) return { active, revived };
    }
  }
}
