import { randomUUID } from "node:crypto";
import type { Prisma, Schedule } from "@runengine/database";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors/runEngineError.ts";
import type { CreateScheduleRequest, UpdateScheduleRequest } from "../schemas/schedule.ts";
import type { TaskManifest } from "../schemas/workerProtocol.ts";
import type { EngineResources } from "../systems/resources.ts";
import { isUniqueViolation } from "../systems/triggerSystem.ts";
import type { WorkerSystem } from "../systems/workerSystem.ts";
import { nextTick } from "./cron.ts";
import { ScheduleArming } from "./scheduleArming.ts";

export interface ListSchedulesQuery {
  taskId?: string;
  /** the id of the last schedule of the previous page */
  cursor?: string;
  limit: number;
}

/** The fields of a schedule that its owner sets; the rest (ticks, activity) the engine keeps. */
interface ScheduleDefinition {
  taskIdentifier: string;
  cron: string;
  timezone: string;
  externalId: string | null;
}

/** Declarative schedules are keyed by their task: one per task and environment. */
const declarativeKey = (taskId: string) => `declarative:${taskId}`;

/**
 * Schedules per environment: imperative ones through the API, declarative ones from the tasks a
 * deployment declares. Every read and write is scoped to the caller's environment; a schedule of
 * another environment is not found. Each write keeps `nextTickAt` and the armed tick job in step:
 * an active schedule has exactly one current tick, an inactive one none.
 */
export class ScheduleSystem {
  private readonly arming: ScheduleArming;

  constructor(
    private readonly resources: EngineResources,
    private readonly workers: WorkerSystem,
  ) {
    this.arming = new ScheduleArming(resources.jobs);
  }

  /**
   * Creates an imperative schedule, armed for its first tick. A deduplicationKey the environment
   * already uses updates that schedule instead of adding one.
   */
  async create(environment: AuthenticatedEnvironment, input: CreateScheduleRequest): Promise<Schedule> {
    await this.assertTaskDeclared(environment.id, input.taskId);
    const nextTickAt = nextTick(input.cron, input.timezone, new Date());
    let schedule: Schedule;
    try {
      schedule = await this.resources.prisma.schedule.create({
        data: {
          environmentId: environment.id,
          type: "IMPERATIVE",
          deduplicationKey: input.deduplicationKey ?? `schedule-${randomUUID()}`,
          ...definitionOf(input),
          nextTickAt,
        },
      });
    } catch (error) {
      if (!input.deduplicationKey || !isUniqueViolation(error)) throw error;
      const existing = await this.resources.prisma.schedule.findUniqueOrThrow({
        where: { environmentId_deduplicationKey: { environmentId: environment.id, deduplicationKey: input.deduplicationKey } },
      });
      return this.update(environment.id, existing.id, input);
    }
    await this.arming.arm(schedule.id, nextTickAt);
    this.resources.logger.info({ event: "schedule:created", scheduleId: schedule.id, taskId: schedule.taskIdentifier, cron: schedule.cron }, "schedule created");
    return schedule;
  }

  async get(environmentId: string, scheduleId: string): Promise<Schedule> {
    const schedule = await this.resources.prisma.schedule.findFirst({ where: { id: scheduleId, environmentId } });
    if (!schedule) throw new NotFoundError("Schedule", scheduleId);
    return schedule;
  }

  /** Newest first; `nextCursor` is set when there may be more. */
  async list(environmentId: string, query: ListSchedulesQuery): Promise<{ schedules: Schedule[]; nextCursor: string | null }> {
    if (query.cursor !== undefined && !(await this.resources.prisma.schedule.count({ where: { id: query.cursor, environmentId } }))) {
      throw new ValidationError("cursor", "not a schedule of this environment's list");
    }
    const schedules = await this.resources.prisma.schedule.findMany({
      where: { environmentId, ...(query.taskId ? { taskIdentifier: query.taskId } : {}) },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: query.limit + 1,
      ...(query.cursor ? { cursor: { id: query.cursor }, skip: 1 } : {}),
    });
    const page = schedules.slice(0, query.limit);
    return { schedules: page, nextCursor: schedules.length > query.limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** Replaces an imperative schedule's task, timing and external id; a new timing moves the next tick. */
  async update(environmentId: string, scheduleId: string, input: UpdateScheduleRequest): Promise<Schedule> {
    const existing = await this.imperative(environmentId, scheduleId);
    await this.assertTaskDeclared(environmentId, input.taskId);
    return this.redefine(existing, definitionOf(input));
  }

  async delete(environmentId: string, scheduleId: string): Promise<void> {
    const existing = await this.imperative(environmentId, scheduleId);
    await this.remove(existing);
  }

  /** Arms the schedule from now on; already active: unchanged. */
  async activate(environmentId: string, scheduleId: string): Promise<Schedule> {
    const existing = await this.get(environmentId, scheduleId);
    if (existing.active) return existing;
    const nextTickAt = nextTick(existing.cron, existing.timezone, new Date());
    const schedule = await this.resources.prisma.schedule.update({ where: { id: existing.id }, data: { active: true, nextTickAt } });
    await this.arming.arm(schedule.id, nextTickAt);
    this.resources.logger.info({ event: "schedule:activated", scheduleId }, "schedule activated");
    return schedule;
  }

  /** Stops the schedule firing until it is activated again; its armed tick is dropped. */
  async deactivate(environmentId: string, scheduleId: string): Promise<Schedule> {
    const existing = await this.get(environmentId, scheduleId);
    const schedule = await this.resources.prisma.schedule.update({ where: { id: existing.id }, data: { active: false, nextTickAt: null } });
    await this.arming.disarm(existing.id, existing.nextTickAt);
    this.resources.logger.info({ event: "schedule:deactivated", scheduleId }, "schedule deactivated");
    return schedule;
  }

  /**
   * Makes the environment's declarative schedules those of the deployment that registered, when it
   * is the environment's newest deployment: declared schedules are created or re-timed, and those
   * whose task no longer declares one are deleted. A worker of an older version that registers again
   * changes nothing, so restarting old workers never rolls schedules back.
   */
  async syncDeclared(environment: AuthenticatedEnvironment, deploymentId: string, tasks: readonly TaskManifest[]): Promise<void> {
    const { prisma } = this.resources;
    const newest = await prisma.workerDeployment.findFirst({
      where: { environmentId: environment.id },
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      select: { id: true },
    });
    if (newest?.id !== deploymentId) return;
    const declared = tasks.flatMap((task) => (task.schedule ? [{ taskId: task.id, ...task.schedule }] : []));
    for (const { taskId, cron, timezone } of declared) {
      const definition = { taskIdentifier: taskId, cron, timezone, externalId: null };
      const key = { environmentId: environment.id, deduplicationKey: declarativeKey(taskId) };
      const existing = await prisma.schedule.findUnique({ where: { environmentId_deduplicationKey: key } });
      if (existing) {
        await this.redefine(existing, definition, { type: "DECLARATIVE" });
        continue;
      }
      const nextTickAt = nextTick(cron, timezone, new Date());
      try {
        const created = await prisma.schedule.create({ data: { ...key, ...definition, type: "DECLARATIVE", nextTickAt } });
        await this.arming.arm(created.id, nextTickAt);
        this.resources.logger.info({ event: "schedule:declared", scheduleId: created.id, taskId, cron, deploymentId }, "declarative schedule created");
      } catch (error) {
        // Another worker of this deployment registered at the same moment and created it.
        if (!isUniqueViolation(error)) throw error;
      }
    }
    const dropped = await prisma.schedule.findMany({
      where: { environmentId: environment.id, type: "DECLARATIVE", taskIdentifier: { notIn: declared.map((d) => d.taskId) } },
    });
    for (const schedule of dropped) await this.remove(schedule);
  }

  /** The schedule, refused (ConflictError) when it is declared in code and so only code changes it. */
  private async imperative(environmentId: string, scheduleId: string): Promise<Schedule> {
    const schedule = await this.get(environmentId, scheduleId);
    if (schedule.type === "DECLARATIVE") {
      throw new ConflictError("id", `schedule ${scheduleId} is declared in the code of task ${schedule.taskIdentifier}; change it there and deploy`);
    }
    return schedule;
  }

  /** Writes a new definition; when the timing changed, an active schedule moves to its new next tick. */
  private async redefine(existing: Schedule, definition: ScheduleDefinition, extra: Prisma.ScheduleUpdateInput = {}): Promise<Schedule> {
    const retimed = existing.cron !== definition.cron || existing.timezone !== definition.timezone;
    const nextTickAt = existing.active && retimed ? nextTick(definition.cron, definition.timezone, new Date()) : existing.nextTickAt;
    const schedule = await this.resources.prisma.schedule.update({ where: { id: existing.id }, data: { ...definition, ...extra, nextTickAt } });
    if (existing.active && retimed && nextTickAt) {
      await this.arming.disarm(existing.id, existing.nextTickAt);
      await this.arming.arm(existing.id, nextTickAt);
    }
    this.resources.logger.info({ event: "schedule:updated", scheduleId: existing.id, cron: schedule.cron, retimed }, "schedule updated");
    return schedule;
  }

  private async remove(schedule: Schedule): Promise<void> {
    await this.resources.prisma.schedule.deleteMany({ where: { id: schedule.id } });
    await this.arming.disarm(schedule.id, schedule.nextTickAt);
    this.resources.logger.info({ event: "schedule:deleted", scheduleId: schedule.id, taskId: schedule.taskIdentifier }, "schedule deleted");
  }

  /** A schedule of a task no deployment of the environment declares could never fire a run. */
  private async assertTaskDeclared(environmentId: string, taskId: string): Promise<void> {
    if ((await this.workers.declaredQueue(environmentId, taskId)) === undefined) {
      throw new ValidationError("taskId", `no deployment of this environment declares task "${taskId}"`);
    }
  }
}

function definitionOf(input: UpdateScheduleRequest): ScheduleDefinition {
  return { taskIdentifier: input.taskId, cron: input.cron, timezone: input.timezone, externalId: input.externalId ?? null };
}
