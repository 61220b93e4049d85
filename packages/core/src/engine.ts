import type { TaskRunStatus } from "@runengine/database";
import type { DispatchRequest } from "./dispatch/dispatchRelay.ts";
import { createEnvironment, type AuthenticatedEnvironment, type CreateEnvironmentInput } from "./environments/apiKeys.ts";
import { HeartbeatMonitor, type HeartbeatMonitorOptions } from "./heartbeats/heartbeatMonitor.ts";
import type { AttemptResult, DequeuedRun } from "./schemas/workerProtocol.ts";
import { AttemptSystem, type HeartbeatAction, type WorkerReport } from "./systems/attemptSystem.ts";
import { CancelSystem } from "./systems/cancelSystem.ts";
import { DequeueSystem } from "./systems/dequeueSystem.ts";
import { FinalizeSystem } from "./systems/finalizeSystem.ts";
import { PendingVersionSystem } from "./systems/pendingVersionSystem.ts";
import { ReadSystem } from "./systems/readSystem.ts";
import type { EngineResources } from "./systems/resources.ts";
import { TriggerSystem, type BatchTriggerItem, type TriggerInput, type TriggerResult } from "./systems/triggerSystem.ts";
import { WorkerSystem, type RegisterWorkerRequest, type WorkerContext } from "./systems/workerSystem.ts";
import { NotFoundError } from "./errors/runEngineError.ts";

/**
 * The operations every app calls, one facade over the engine's systems. Apps hold no domain logic:
 * the api calls trigger/read/cancel and the worker protocol, the dispatcher `dequeueForWorker`,
 * the finalizer the `apply*` handlers, the heartbeat monitor `heartbeatMonitor().tick()`.
 */
export class RunEngine {
  readonly resources: EngineResources;
  readonly workers: WorkerSystem;
  readonly finalize: FinalizeSystem;
  readonly reads: ReadSystem;
  private readonly triggers: TriggerSystem;
  private readonly dequeues: DequeueSystem;
  private readonly attempts: AttemptSystem;
  private readonly cancels: CancelSystem;

  constructor(resources: EngineResources) {
    this.resources = resources;
    const pendingVersions = new PendingVersionSystem(resources);
    this.workers = new WorkerSystem(resources, (environment, taskIds) => pendingVersions.promote(environment, taskIds).then(() => undefined));
    this.triggers = new TriggerSystem(resources, this.workers);
    this.dequeues = new DequeueSystem(resources, this.workers);
    this.attempts = new AttemptSystem(resources);
    this.finalize = new FinalizeSystem(resources);
    this.cancels = new CancelSystem(resources);
    this.reads = new ReadSystem(resources);
  }

  /** Creates an environment (and its key) and applies its concurrency limit to the run queue. */
  async createEnvironment(input: CreateEnvironmentInput): Promise<{ environment: AuthenticatedEnvironment; apiKey: string }> {
    const created = await createEnvironment(this.resources.prisma, input);
    await this.resources.runQueue.setConcurrencyLimit({ envId: created.environment.id, limit: created.environment.concurrencyLimit });
    return created;
  }

  trigger(input: TriggerInput): Promise<TriggerResult> {
    return this.triggers.trigger(input);
  }

  batchTrigger(environment: AuthenticatedEnvironment, taskId: string, items: readonly BatchTriggerItem[]) {
    return this.triggers.batchTrigger(environment, taskId, items);
  }

  cancel(environmentId: string, runId: string): Promise<TaskRunStatus> {
    return this.reads.run(environmentId, runId).then(() => this.cancels.cancel(runId));
  }

  registerWorker(environment: AuthenticatedEnvironment, request: RegisterWorkerRequest) {
    return this.workers.register(environment, request);
  }

  dequeueForWorker(request: Pick<DispatchRequest, "workerId" | "maxRuns">): Promise<DequeuedRun[]> {
    return this.dequeues.dequeueForWorker(request);
  }

  /**
   * The worker of `report.workerId`, checked to belong to the environment whose key made the
   * call: NotFoundError otherwise, so one tenant cannot act through another's worker.
   */
  async workerOf(environmentId: string, workerId: string): Promise<WorkerContext> {
    const worker = await this.workers.context(workerId);
    if (worker.environmentId !== environmentId) throw new NotFoundError("WorkerInstance", workerId);
    return worker;
  }

  async startAttempt(environmentId: string, runId: string, report: WorkerReport) {
    await this.workerOf(environmentId, report.workerId);
    await this.reads.run(environmentId, runId);
    return this.attempts.start(runId, report);
  }

  /** No run lookup while the worker is current: the snapshot id it names proves it holds the run. */
  async heartbeat(environmentId: string, runId: string, report: WorkerReport): Promise<HeartbeatAction> {
    await this.workerOf(environmentId, report.workerId);
    return this.attempts.heartbeat(environmentId, runId, report);
  }

  async reportAttemptResult(environmentId: string, runId: string, report: WorkerReport & { result: AttemptResult }): Promise<void> {
    await this.workerOf(environmentId, report.workerId);
    await this.reads.run(environmentId, runId);
    return this.attempts.report(runId, report);
  }

  heartbeatMonitor(options?: HeartbeatMonitorOptions): HeartbeatMonitor {
    return new HeartbeatMonitor(this.resources, this.finalize, options);
  }
}
