import type { TaskManifest } from "@runengine/core/schemas";
import type { AnyTask } from "../task.ts";

/** What the engine learns about a task when a worker registers it. */
export function toTaskManifest(task: AnyTask): TaskManifest {
  return {
    id: task.id,
    queue: { name: task.queue.name, ...(task.queue.concurrencyLimit !== undefined ? { concurrencyLimit: task.queue.concurrencyLimit } : {}) },
    retry: { ...task.retry },
    ...(task.maxDuration !== undefined ? { maxDurationSeconds: task.maxDuration } : {}),
    ...(task.schedule ? { schedule: { ...task.schedule } } : {}),
  };
}
