import { sqlPool, type BackgroundTask, type EnvironmentType } from "@runengine/database";
import type { z } from "zod";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { NotFoundError } from "../errors/runEngineError.ts";
import type { registerWorkerRequestSchema } from "../schemas/workerProtocol.ts";
import type { EngineResources } from "./resources.ts";

export type RegisterWorkerRequest = z.output<typeof registerWorkerRequestSchema>;

/** A registered worker process and the tasks of the deployment it runs. */
export interface WorkerContext {
  workerId: string;
  environmentId: string;
  organizationId: string;
  environmentName: string;
  environmentType: EnvironmentType;
  deploymentId: string;
  /** the version the worker registered, which the runs it starts are locked to */
  version: string;
  tasks: ReadonlyMap<string, BackgroundTask>;
}

/** A worker that has not polled for this long no longer counts as able to run its tasks. */
const liveWorkerWindowMs = 60_000;

/**
 * Worker processes and their deployments. A deployment (environment + version) is immutable: the
 * tasks it declares are recorded once, and runs that started on it resume only on it.
 */
export class WorkerSystem {
  /** worker contexts never change after registration, so every dispatcher may cache them */
  private readonly contexts = new Map<string, Promise<WorkerContext>>();
  private readonly lastTouched = new Map<string, number>();

  constructor(
    private readonly resources: EngineResources,
    private readonly onTasksDeployed: (environment: AuthenticatedEnvironment, taskIds: string[]) => Promise<void>,
  ) {}

  async register(environment: AuthenticatedEnvironment, request: RegisterWorkerRequest): Promise<{ workerId: string; deploymentId: string }> {
    const { prisma, runQueue } = this.resources;
    const deployment = await prisma.workerDeployment.upsert({
      where: { environmentId_version: { environmentId: environment.id, version: request.version } },
      create: { environmentId: environment.id, version: request.version },
      update: {},
    });
    await prisma.backgroundTask.createMany({
      data: request.tasks.map((task) => ({
        deploymentId: deployment.id,
        taskIdentifier: task.id,
        queueName: task.queue.name,
        retryConfig: task.retry,
        maxDurationSeconds: task.maxDurationSeconds === undefined ? null : Math.ceil(task.maxDurationSeconds),
      })),
      skipDuplicates: true,
    });
    for (const task of request.tasks) {
      const declared = task.queue.concurrencyLimit ?? null;
      const where = { environmentId_name: { environmentId: environment.id, name: task.queue.name } };
      const queue = await prisma.taskQueue.upsert({
        where,
        create: { environmentId: environment.id, name: task.queue.name, concurrencyLimit: declared, declaredConcurrencyLimit: declared },
        update: { declaredConcurrencyLimit: declared },
      });
      // An operator's limit outlives deployments until the operator goes back to the declared one.
      if (queue.limitOverriddenAt) continue;
      if (queue.concurrencyLimit !== declared) await prisma.taskQueue.update({ where, data: { concurrencyLimit: declared } });
      await runQueue.setConcurrencyLimit({ envId: environment.id, queue: task.queue.name, limit: declared });
    }
    const worker = await prisma.workerInstance.create({
      data: { environmentId: environment.id, deploymentId: deployment.id, name: request.name, concurrency: request.concurrency },
    });
    this.resources.logger.info(
      { event: "worker:registered", workerId: worker.id, deploymentId: deployment.id, version: request.version, tasks: request.tasks.length },
      "worker registered",
    );
    await this.onTasksDeployed(environment, request.tasks.map((t) => t.id));
    return { workerId: worker.id, deploymentId: deployment.id };
  }

  /**
   * The worker's context; NotFoundError for an unknown or stopped worker. Cached for the life of
   * the process: a worker deregistered through another process is refused here once this cache
   * has not seen it, and is otherwise recovered like any silent worker (heartbeat deadlines).
   */
  context(workerId: string): Promise<WorkerContext> {
    let context = this.contexts.get(workerId);
    if (!context) {
      context = this.load(workerId);
      this.contexts.set(workerId, context);
      context.catch(() => this.contexts.delete(workerId));
    }
    return context;
  }

  private async load(workerId: string): Promise<WorkerContext> {
    const worker = await this.resources.prisma.workerInstance.findUnique({
      where: { id: workerId },
      include: { deployment: { include: { tasks: true } }, environment: { select: { organizationId: true, name: true, type: true } } },
    });
    // A stopped worker said it is gone; whatever still calls with its id is not it.
    if (!worker || worker.stoppedAt) throw new NotFoundError("WorkerInstance", workerId);
    return {
      workerId,
      environmentId: worker.environmentId,
      organizationId: worker.environment.organizationId,
      environmentName: worker.environment.name,
      environmentType: worker.environment.type,
      deploymentId: worker.deploymentId,
      version: worker.deployment.version,
      tasks: new Map(worker.deployment.tasks.map((task) => [task.taskIdentifier, task])),
    };
  }

  /** Marks the worker stopped (graceful shutdown); its unfinished runs are the monitor's to recover. */
  async deregister(workerId: string): Promise<void> {
    await this.resources.prisma.workerInstance.updateMany({ where: { id: workerId }, data: { stoppedAt: new Date() } });
    this.contexts.delete(workerId);
  }

  /** Is a worker that runs this task (of `deploymentId`, if given) registered, not stopped, and polling? */
  async hasLiveWorker(environmentId: string, taskId: string, deploymentId?: string): Promise<boolean> {
    const worker = await this.resources.prisma.workerInstance.findFirst({
      where: {
        environmentId,
        stoppedAt: null,
        lastSeenAt: { gte: new Date(Date.now() - liveWorkerWindowMs) },
        ...(deploymentId ? { deploymentId } : {}),
        deployment: { tasks: { some: { taskIdentifier: taskId } } },
      },
      select: { id: true },
    });
    return worker !== null;
  }

  /** Records that the worker is polling; written at most once per interval per worker. */
  async touch(workerId: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastTouched.get(workerId) ?? 0) < liveWorkerWindowMs / 4) return;
    this.lastTouched.set(workerId, now);
    await this.resources.prisma.workerInstance.updateMany({ where: { id: workerId }, data: { lastSeenAt: new Date(now) } });
  }

  /**
   * The queue the newest deployment declares for the task, if any deployment has it. Read on every
   * trigger request, by hand-written SQL: Prisma spends several times the query's cost compiling it.
   */
  async declaredQueue(environmentId: string, taskId: string): Promise<string | undefined> {
    const { rows } = await sqlPool(this.resources.prisma).query<{ queueName: string }>({
      name: "re_declared_queue",
      text: `SELECT t."queueName" FROM "BackgroundTask" t JOIN "WorkerDeployment" d ON d.id = t."deploymentId"
              WHERE t."taskIdentifier" = $1 AND d."environmentId" = $2
              ORDER BY t."createdAt" DESC LIMIT 1`,
      values: [taskId, environmentId],
    });
    return rows[0]?.queueName;
  }
}
