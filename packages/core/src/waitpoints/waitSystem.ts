import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import { NotFoundError, StaleSnapshotError } from "../errors/runEngineError.ts";
import type { WaitRequest, WaitResponse, WaitSpec } from "../schemas/waitpoint.ts";
import type { EngineResources } from "../systems/resources.ts";
import type { ParentRun, TriggerSystem } from "../systems/triggerSystem.ts";
import type { BlockingSystem, BlockingWaitpoint } from "./blockingSystem.ts";
import type { CheckpointSystem } from "./checkpointSystem.ts";
import type { WaitpointSystem } from "./waitpointSystem.ts";

/** What one wait blocks on, and how the history describes it. */
interface PlannedWait {
  waitpoints: BlockingWaitpoint[];
  runIds: string[];
  resumeAt: Date | null;
  description: string;
}

/**
 * A task's waits as its worker asks for them (`wait.for/until`, `wait.forToken`,
 * `triggerAndWait`, `batchTriggerAndWait`): make the waitpoints (triggering the children a wait
 * is for), then block the run on them. The snapshot the worker names is checked before anything
 * is made, so a stale worker triggers no children. A wait that names its place in the run's journal
 * triggers its children once per run, not once per attempt: a retried attempt reaching it again
 * waits on the children already triggered (running, or finished: then it continues at once).
 * A wait may checkpoint the run in the same call (see the request's `checkpoint`).
 */
export class WaitSystem {
  constructor(
    private readonly resources: EngineResources,
    private readonly triggers: TriggerSystem,
    private readonly waitpoints: WaitpointSystem,
    private readonly blocking: BlockingSystem,
    private readonly checkpoints: CheckpointSystem,
  ) {}

  async wait(environment: AuthenticatedEnvironment, runId: string, request: WaitRequest): Promise<WaitResponse> {
    const latest = await this.resources.snapshots.latestSnapshot(runId);
    if (!latest || latest.environmentId !== environment.id) throw new NotFoundError("TaskRun", runId);
    if (latest.id !== request.snapshotId || latest.executionStatus !== "EXECUTING") {
      throw new StaleSnapshotError({ runId, expectedSnapshotId: request.snapshotId, latestSnapshotId: latest.id });
    }
    const receivedAt = Date.now();
    const planned = await this.plan(environment, runId, request.wait, request.journalIndex);
    const waitpointIds = planned.waitpoints.map((w) => w.waitpointId);
    return this.resources.locker.lock(runId, async () => {
      const { state, outcome } = await this.blocking.block(runId, request, planned.waitpoints, planned.description);
      const response: WaitResponse = { snapshotId: state.snapshot.id, waitpointIds, runIds: planned.runIds, resumeAt: planned.resumeAt };
      const { checkpoint } = request;
      if (!checkpoint) return response;
      const endsSoon = planned.resumeAt !== null && planned.resumeAt.getTime() - receivedAt < checkpoint.thresholdMs;
      // "blocked": `state` is still the run's newest; otherwise its wait had ended and it went on
      if (endsSoon || outcome !== "blocked") return { ...response, checkpointed: false };
      const entry = { type: "wait" as const, id: checkpoint.waitId, waitpointIds, runIds: planned.runIds, completed: false };
      const report = { workerId: request.workerId, snapshotId: state.snapshot.id, journal: [...checkpoint.journal, entry], reason: checkpoint.waitId };
      return { ...response, checkpointed: await this.checkpoints.trySuspend(environment.id, runId, report, state) };
    });
  }

  private async plan(environment: AuthenticatedEnvironment, runId: string, wait: WaitSpec, journalIndex: number | undefined): Promise<PlannedWait> {
    switch (wait.kind) {
      case "datetime": {
        const waitpointId = await this.waitpoints.createDateTime(environment.id, wait.until);
        return { waitpoints: [{ waitpointId }], runIds: [], resumeAt: wait.until, description: `Waiting until ${wait.until.toISOString()}` };
      }
      case "token": {
        const token = await this.waitpoints.token(environment.id, wait.tokenId);
        return { waitpoints: [{ waitpointId: token.id }], runIds: [], resumeAt: token.timeoutAt, description: `Waiting for token ${token.id}` };
      }
      case "run": {
        const parent = await this.parentOf(runId, journalIndex);
        const child = await this.triggers.trigger({ environment, taskId: wait.taskId, payload: wait.payload, options: wait.options ?? {}, parent });
        const waitpoint = await this.waitpoints.runWaitpoint(child.id);
        return {
          waitpoints: [{ waitpointId: waitpoint.id }],
          runIds: [child.id],
          resumeAt: null,
          description: `Waiting for run ${child.id} of task "${wait.taskId}"`,
        };
      }
      case "batch": {
        const parent = await this.parentOf(runId, journalIndex);
        const { batchId, runs } = await this.triggers.batchTrigger(environment, wait.taskId, wait.items, parent);
        const runWaitpoints = await this.waitpoints.runWaitpoints(runs.map((run) => run.id));
        const waitpoints: BlockingWaitpoint[] = runWaitpoints.map((waitpoint, batchIndex) => ({ waitpointId: waitpoint.id, batchIndex }));
        return {
          waitpoints,
          runIds: runs.map((run) => run.id),
          resumeAt: null,
          description: `Waiting for the ${runs.length} runs of batch ${batchId} (task "${wait.taskId}")`,
        };
      }
    }
  }

  private async parentOf(runId: string, waitJournalIndex: number | undefined): Promise<ParentRun> {
    const run = await this.resources.prisma.taskRun.findUniqueOrThrow({ where: { id: runId }, select: { rootRunId: true, depth: true } });
    return {
      runId,
      rootRunId: run.rootRunId ?? runId,
      depth: run.depth + 1,
      resumeParentOnCompletion: true,
      ...(waitJournalIndex === undefined ? {} : { waitJournalIndex }),
    };
  }
}
