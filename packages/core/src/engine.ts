import type { TaskRunStatus } from "@runengine/database";
import type { DispatchRequest } from "./dispatch/dispatchRelay.ts";
import { createEnvironment, type AuthenticatedEnvironment, type CreateEnvironmentInput } from "./environments/apiKeys.ts";
import { HeartbeatMonitor, type HeartbeatMonitorOptions } from "./heartbeats/heartbeatMonitor.ts";
import { Reconciler, type ReconcilerOptions } from "./reconcile/reconciler.ts";
import type { AttemptResult, DequeuedRun } from "./schemas/workerProtocol.ts";
import { AttemptSystem, type HeartbeatAction, type WorkerReport } from "./systems/attemptSystem.ts";
import { CancelSystem } from "./systems/cancelSystem.ts";
import { DelayedRunSystem } from "./systems/delayedRunSystem.ts";
import { DequeueSystem } from "./systems/dequeueSystem.ts";
import { FinalizeSystem } from "./systems/finalizeSystem.ts";
import { PendingVersionSystem } from "./systems/pendingVersionSystem.ts";
import { ReadSystem } from "./systems/readSystem.ts";
import { TtlSystem } from "./systems/ttlSystem.ts";
import { OverdueRunSweep, type OverdueRunSweepOptions } from "./systems/overdueRunSweep.ts";
import type { EngineResources } from "./systems/resources.ts";
import { TriggerSystem, type BatchTriggerItem, type TriggerInput, type TriggerResult } from "./systems/triggerSystem.ts";
import { WorkerSystem, type RegisterWorkerRequest, type WorkerContext } from "./systems/workerSystem.ts";
import { NotFoundError } from "./errors/runEngineError.ts";
import { BulkActionSystem } from "./operators/bulkActionSystem.ts";
import { QueueConsole } from "./operators/queueConsole.ts";
import { RunInspector } from "./operators/runInspector.ts";
import { ReplaySystem } from "./systems/replaySystem.ts";
import { ScheduleSystem } from "./schedules/scheduleSystem.ts";
import { ScheduleTicks } from "./schedules/scheduleTicks.ts";
import { Waits } from "./waitpoints/waits.ts";

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
  /** delayed runs becoming due (scheduler) */
  readonly delayedRuns: DelayedRunSystem;
  /** TTL expiry (scheduler) */
  readonly ttl: TtlSystem;
  /** schedules per environment (api) */
  readonly schedules: ScheduleSystem;
  /** fires due schedule ticks (scheduler) */
  readonly scheduleTicks: ScheduleTicks;
  /** operators' reads across environments (admin pages) */
  readonly inspector: RunInspector;
  /** operators' view and controls of the run queue (admin pages) */
  readonly queueConsole: QueueConsole;
  /** bulk cancel and replay over a filter of runs (admin pages create, the finalizer processes) */
  readonly bulkActions: BulkActionSystem;
  /** waitpoints, waits and checkpoints: the worker protocol's waits, tokens, and their jobs */
  readonly waits: Waits;
  private readonly triggers: TriggerSystem;
  private readonly dequeues: DequeueSystem;
  private readonly attempts: AttemptSystem;
  private readonly cancels: CancelSystem;
  private readonly replays: ReplaySystem;

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
    this.delayedRuns = new DelayedRunSystem(resources);
    this.ttl = new TtlSystem(resources);
    this.replays = new ReplaySystem(resources, this.triggers);
    this.inspector = new RunInspector(resources);
    this.queueConsole = new QueueConsole(resources);
    this.bulkActions = new BulkActionSystem(resources, {
      cancel: (runId, reason) => this.cancels.cancel(runId, reason),
      replay: (runId, options) => this.replays.replay(runId, options),
    });
    this.schedules = new ScheduleSystem(resources, this.workers);
    this.scheduleTicks = new ScheduleTicks(resources, this.triggers);
    this.waits = new Waits(resources, this.triggers, this.workers);
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

  /** Moves the due time of a DELAYED run of the environment (ConflictError when it is not DELAYED). */
  async reschedule(environmentId: string, runId: string, delayUntil: Date) {
    await this.reads.run(environmentId, runId);
    return this.delayedRuns.reschedule(runId, delayUntil);
  }

  /** A new run with the original's task, payload and options (see ReplaySystem); scoped to the caller's environment. */
  async replay(environmentId: string, runId: string): Promise<TriggerResult> {
    await this.reads.run(environmentId, runId);
    return this.replays.replay(runId);
  }

  /** Registers the worker and, for the environment's newest deployment, its declarative schedules. */
  async registerWorker(environment: AuthenticatedEnvironment, request: RegisterWorkerRequest) {
    const registered = await this.workers.register(environment, request);
    await this.schedules.syncDeclared(environment, registered.deploymentId, request.tasks);
    return registered;
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
    const worker = await this.workerOf(environmentId, report.workerId);
    return this.attempts.start(environmentId, runId, report, worker.deploymentId);
  }

  /** No run lookup while the worker is current: the snapshot id it names proves it holds the run. */
  async heartbeat(environmentId: string, runId: string, report: WorkerReport): Promise<HeartbeatAction> {
    await this.workerOf(environmentId, report.workerId);
    return this.attempts.heartbeat(environmentId, runId, report);
  }

  async reportAttemptResult(environmentId: string, runId: string, report: WorkerReport & { result: AttemptResult }): Promise<void> {
    await this.workerOf(environmentId, report.workerId);
    return this.attempts.report(environmentId, runId, report);
  }

  /** Runs dequeued for a long poll whose worker had gone: back to their queues at once. */
  async handBackUndelivered(runs: readonly DequeuedRun[]): Promise<void> {
    await Promise.all(runs.map((run) => this.finalize.requeueUndelivered(run.runId, run.snapshotId)));
  }

  /** The scheduler's pass that re-arms lost jobs of overdue delayed and expiring runs: tick() every few seconds. */
  overdueRunSweep(options?: OverdueRunSweepOptions): OverdueRunSweep {
    return new OverdueRunSweep(this.resources, options);
  }

  heartbeatMonitor(options?: HeartbeatMonitorOptions): HeartbeatMonitor {
    return new HeartbeatMonitor(this.resources, this.finalize, options);
  }

  /** Keeps Redis equal to Postgres: tick() every few seconds (heartbeat-monitor), rebuild() on demand. */
  reconciler(options?: ReconcilerOptions): Reconciler {
    return new Reconciler(this.resources, options);
  }
}
