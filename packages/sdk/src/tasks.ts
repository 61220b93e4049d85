import type { TriggerOptionsInput } from "@runengine/core/schemas";
import type { BatchItem } from "./client.ts";
import { currentRuntime } from "./runtime/runContext.ts";
import { performWait } from "./runtime/performWait.ts";
import type { AnyTask, OutputOf, PayloadOf } from "./task.ts";
import { waitResult, type WaitError } from "./wait.ts";

/** What a child run ended with, as its parent receives it. */
export type TaskRunResult<T> = { ok: true; id: string; output: T } | { ok: false; id: string; error: WaitError };

type TaskRef = AnyTask | string;
type OutputFor<T extends TaskRef> = T extends AnyTask ? OutputOf<T> : unknown;
type PayloadFor<T extends TaskRef> = T extends AnyTask ? PayloadOf<T> : unknown;

const idOf = (task: TaskRef) => (typeof task === "string" ? task : task.id);

/**
 * Triggering child runs from inside a task and waiting for them. The parent checkpoints while it
 * waits, so it holds no slot its children might need (a chain of parents waiting on children
 * completes even on a queue with a limit of 1). A failed child resumes its parent with
 * `{ ok: false, error }`; cancelling the parent cancels its children.
 */
export const tasks = {
  async triggerAndWait<T extends TaskRef>(task: T, payload: PayloadFor<T>, options?: TriggerOptionsInput): Promise<TaskRunResult<OutputFor<T>>> {
    const taskId = idOf(task);
    const id = `triggerAndWait:${taskId}`;
    const { results, runIds } = await performWait(currentRuntime(`tasks.triggerAndWait`), id, {
      kind: "run",
      taskId,
      payload,
      ...(options ? { options } : {}),
    });
    return { id: runIds[0] ?? "", ...waitResult<OutputFor<T>>(results[0]!) };
  },

  /** Triggers one run per item and waits for all of them; results are in the order of `items`. */
  async batchTriggerAndWait<T extends TaskRef>(task: T, items: BatchItem<PayloadFor<T>>[]): Promise<TaskRunResult<OutputFor<T>>[]> {
    const taskId = idOf(task);
    const { results, runIds } = await performWait(currentRuntime("tasks.batchTriggerAndWait"), `batchTriggerAndWait:${taskId}`, {
      kind: "batch",
      taskId,
      items: items.map((item) => ({ payload: item.payload, ...(item.options ? { options: item.options } : {}) })),
    });
    return results.map((result, index) => ({ id: runIds[index] ?? "", ...waitResult<OutputFor<T>>(result) }));
  },
};
