import { z } from "zod";
import type { AuthenticatedEnvironment } from "../environments/apiKeys.ts";
import type { TriggerOptions } from "../schemas/trigger.ts";
import { jsonColumn } from "../utils/jsonColumn.ts";
import type { DelayedRunSystem } from "./delayedRunSystem.ts";
import type { EngineResources } from "./resources.ts";

export type DebounceOptions = NonNullable<TriggerOptions["debounce"]>;

/** The debounce window as stored on its run (`TaskRun.debounce`). */
export const storedDebounceSchema = z.object({
  key: z.string(),
  delayMs: z.number().int().min(0),
  mode: z.enum(["leading", "trailing"]),
  maxDelayMs: z.number().int().min(0).optional(),
  /** when the first trigger opened the window; maxDelay counts from here */
  firstTriggeredAt: z.iso.datetime(),
});
export type StoredDebounce = z.output<typeof storedDebounceSchema>;

export interface DebounceRequest {
  environment: AuthenticatedEnvironment;
  taskId: string;
  payload: unknown;
  options: TriggerOptions;
  debounce: DebounceOptions;
}

/** Creates the run that opens a window: DELAYED until `delayUntil`, carrying `debounce`. */
export type CreateDebouncedRun = (delayUntil: Date, debounce: StoredDebounce) => Promise<string>;

/** One trigger waiting for its key's next batch. */
interface Waiter {
  request: DebounceRequest;
  create: CreateDebouncedRun;
  resolve(result: DebounceResult): void;
  reject(error: unknown): void;
}

export interface DebounceResult {
  id: string;
  /** true when the trigger joined a waiting run; false for the one that opened the window */
  joined: boolean;
}

/**
 * Debounce: triggers of one task in one environment with the same `debounce.key` collapse into one
 * DELAYED run while it waits. Each trigger that joins pushes the run's due time to `delay` after
 * itself (never earlier, never past first trigger + `maxDelay`) with a snapshot saying so; in
 * trailing mode its payload, metadata and tags replace the run's, in leading mode the first stay.
 * Once the run is queued, the next trigger opens a new window.
 *
 * Concurrent triggers of one key are serialized by a lock on the key (the same redlock as run
 * locks): finding the waiting run and pushing it, or creating it, happen under it, so two triggers
 * can never both create. The waiting run is found in Postgres (its DELAYED status and stored key),
 * so there is no second copy of the window to drift. Within one process, triggers that arrive
 * while their key is being handled wait for it together and are then handled as one batch (one
 * push of the due time, the last payload), so a burst costs a few lock turns, not one per trigger.
 */
export class DebounceSystem {
  /** keys being handled in this process → the triggers for their next batch */
  private readonly batches = new Map<string, Waiter[]>();

  constructor(
    private readonly resources: EngineResources,
    private readonly delayedRuns: DelayedRunSystem,
  ) {}

  /** The id of the run this trigger joined or opened. */
  trigger(request: DebounceRequest, create: CreateDebouncedRun): Promise<DebounceResult> {
    const key = `debounce:${request.environment.id}:${request.taskId}:${request.debounce.key}`;
    return new Promise((resolve, reject) => {
      const waiter = { request, create, resolve, reject };
      const pending = this.batches.get(key);
      if (pending) {
        pending.push(waiter);
        return;
      }
      this.batches.set(key, [waiter]);
      void this.drain(key);
    });
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const batch = this.batches.get(key) ?? [];
      if (batch.length === 0) {
        this.batches.delete(key);
        return;
      }
      // later arrivals wait for the next turn
      this.batches.set(key, []);
      try {
        const results = await this.resources.locker.lock(key, () => this.settle(batch));
        batch.forEach((waiter, index) => waiter.resolve(results[index]!));
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
      }
    }
  }

  /** Under the key's lock: joins the waiting run, or opens a window with the first trigger. */
  private async settle(batch: readonly Waiter[]): Promise<DebounceResult[]> {
    const [opener, ...rest] = batch as [Waiter, ...Waiter[]];
    const { environment, taskId, debounce } = opener.request;
    const waiting = await this.resources.prisma.taskRun.findFirst({
      where: { environmentId: environment.id, taskIdentifier: taskId, delayedDebounceKey: debounce.key },
      orderBy: { createdAt: "desc" },
      select: { id: true },
    });
    if (waiting && (await this.join(waiting.id, batch))) return batch.map(() => ({ id: waiting.id, joined: true }));

    const now = new Date();
    const id = await opener.create(new Date(now.getTime() + debounce.delay), {
      key: debounce.key,
      delayMs: debounce.delay,
      mode: debounce.mode,
      ...(debounce.maxDelay === undefined ? {} : { maxDelayMs: debounce.maxDelay }),
      firstTriggeredAt: now.toISOString(),
    });
    if (rest.length > 0) await this.join(id, rest);
    return [{ id, joined: false }, ...rest.map(() => ({ id, joined: true }))];
  }

  /**
   * Pushes the waiting run's due time for `batch` (and in trailing mode takes the last trigger's
   * payload, metadata and tags); false if the run is no longer waiting.
   */
  private async join(runId: string, batch: readonly Waiter[]): Promise<boolean> {
    const { locker, snapshots, prisma } = this.resources;
    return locker.lock(runId, async () => {
      const latest = await snapshots.latestSnapshot(runId);
      const run = await prisma.taskRun.findUnique({ where: { id: runId }, select: { delayUntil: true, debounce: true } });
      const window = storedDebounceSchema.safeParse(run?.debounce);
      if (latest?.executionStatus !== "DELAYED" || latest.runStatus !== "DELAYED" || !run?.delayUntil || !window.success) return false;

      const last = batch.at(-1)!.request;
      const current = run.delayUntil.getTime();
      const latestAllowed = window.data.maxDelayMs === undefined ? Infinity : Date.parse(window.data.firstTriggeredAt) + window.data.maxDelayMs;
      const longestDelay = Math.max(...batch.map((waiter) => waiter.request.debounce.delay));
      const due = new Date(Math.max(current, Math.min(Date.now() + longestDelay, latestAllowed)));
      const trailing = window.data.mode === "trailing";
      const moved = due.getTime() !== current;
      const who = batch.length === 1 ? "" : ` ${batch.length} triggers`;
      const change = moved ? `due time moved to ${due.toISOString()}` : `due time stays ${due.toISOString()} (maxDelay)`;
      const payloadNote = trailing ? (batch.length === 1 ? "; payload of this trigger" : "; payload of the last") : "";
      await snapshots.mutate(
        runId,
        {
          expectedSnapshotId: latest.id,
          executionStatus: "DELAYED",
          runStatus: "DELAYED",
          description: `Debounced${who}: ${change}${payloadNote}`,
          runUpdate: {
            delayUntil: due,
            ...(trailing ? { payload: jsonColumn(last.payload), metadata: jsonColumn(last.options.metadata), tags: last.options.tags ?? [] } : {}),
          },
        },
        { afterCommit: () => (moved ? this.delayedRuns.schedule(runId, due) : Promise.resolve()) },
      );
      return true;
    });
  }
}
