import type { Waitpoint } from "@runengine/database";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { NotFoundError } from "../errors/runEngineError.ts";
import type { CreateTokenRequest, WaitRequest, WaitResponse, WaitStatusResponse } from "../schemas/waitpoint.ts";
import type { EngineResources } from "../systems/resources.ts";
import type { TriggerSystem } from "../systems/triggerSystem.ts";
import type { WorkerSystem } from "../systems/workerSystem.ts";
import { BlockingSystem, type ContinueOutcome } from "./blockingSystem.ts";
import { CheckpointSystem, type CheckpointReport } from "./checkpointSystem.ts";
import { WaitSystem } from "./waitSystem.ts";
import { WaitpointSystem } from "./waitpointSystem.ts";

type Report = { workerId: string; snapshotId: string };

/**
 * The engine's waits, as the roles call them: the worker protocol (wait, wait status, checkpoint,
 * resume; each checks the worker and the run belong to the caller's environment), tokens (api), and
 * the handlers of the jobs that complete waitpoints (scheduler) and continue runs (finalizer).
 */
export class Waits {
  readonly waitpoints: WaitpointSystem;
  readonly blocking: BlockingSystem;
  readonly checkpoints: CheckpointSystem;
  private readonly waitSystem: WaitSystem;

  constructor(
    resources: EngineResources,
    triggers: TriggerSystem,
    private readonly workers: WorkerSystem,
  ) {
    this.waitpoints = new WaitpointSystem(resources);
    this.blocking = new BlockingSystem(resources);
    this.checkpoints = new CheckpointSystem(resources, this.blocking);
    this.waitSystem = new WaitSystem(resources, triggers, this.waitpoints, this.blocking, this.checkpoints);
  }

  async wait(environment: AuthenticatedEnvironment, runId: string, request: WaitRequest): Promise<WaitResponse> {
    await this.checkWorker(environment.id, request.workerId);
    return this.waitSystem.wait(environment, runId, request);
  }

  async waitStatus(environmentId: string, runId: string, report: Report): Promise<WaitStatusResponse> {
    await this.checkWorker(environmentId, report.workerId);
    return this.checkpoints.waitStatus(environmentId, runId, report);
  }

  async checkpoint(environmentId: string, runId: string, report: CheckpointReport): Promise<{ checkpointId: string; snapshotId: string }> {
    await this.checkWorker(environmentId, report.workerId);
    return this.checkpoints.suspend(environmentId, runId, report);
  }

  async resume(environmentId: string, runId: string, report: Report): Promise<{ snapshotId: string; attemptNumber: number }> {
    await this.checkWorker(environmentId, report.workerId);
    return this.checkpoints.restore(environmentId, runId, report);
  }

  createToken(environmentId: string, request: CreateTokenRequest): Promise<{ token: Waitpoint; isCached: boolean }> {
    return this.waitpoints.createToken(environmentId, { timeoutAt: request.timeout, idempotencyKey: request.idempotencyKey });
  }

  completeToken(environmentId: string, tokenId: string, data: unknown): Promise<Waitpoint> {
    return this.waitpoints.completeToken(environmentId, tokenId, data);
  }

  token(environmentId: string, tokenId: string): Promise<Waitpoint> {
    return this.waitpoints.token(environmentId, tokenId);
  }

  /** Handler of `continueRunIfUnblocked`. */
  continueRunIfUnblocked(runId: string): Promise<ContinueOutcome> {
    return this.blocking.continueIfUnblocked(runId);
  }

  /** Handler of `completeDateTimeWaitpoint`. */
  completeDateTimeWaitpoint(waitpointId: string): Promise<void> {
    return this.waitpoints.completeDateTime(waitpointId);
  }

  /** Handler of `timeoutWaitpointToken`. */
  timeoutWaitpointToken(waitpointId: string): Promise<void> {
    return this.waitpoints.timeoutToken(waitpointId);
  }

  /** The run's own environment is checked by each system, on the run row it reads anyway. */
  private async checkWorker(environmentId: string, workerId: string): Promise<void> {
    const worker = await this.workers.context(workerId);
    if (worker.environmentId !== environmentId) throw new NotFoundError("WorkerInstance", workerId);
  }
}
