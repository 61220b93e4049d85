import type { Worker } from "bullmq";
import type { RunEngine } from "../engine.ts";
import { jobQueues } from "./catalog.ts";
import { createJobWorker, jobDeferrer, type JobHandlers, type JobQueuesOptions } from "./queues.ts";

/**
 * The handler of every job on the scheduler queue, by job name. A new scheduled job is a catalog
 * entry on `jobQueues.scheduler` plus its handler here (the compiler insists on both).
 */
export function schedulerJobHandlers(engine: RunEngine): JobHandlers<typeof jobQueues.scheduler> {
  return {
    enqueueDelayedRun: (payload, job, token) => engine.delayedRuns.enqueueDue(payload, jobDeferrer(job, token)),
    expireRun: (payload, job, token) => engine.ttl.expire(payload, jobDeferrer(job, token)),
    completeDateTimeWaitpoint: ({ waitpointId }) => engine.waits.completeDateTimeWaitpoint(waitpointId),
    timeoutWaitpointToken: ({ waitpointId }) => engine.waits.timeoutWaitpointToken(waitpointId),
    fireScheduleTick: async (payload) => {
      await engine.scheduleTicks.fire(payload);
    },
  };
}

/** The scheduler role's consumer: delayed runs becoming due, TTL expiries, DATETIME waitpoints, token timeouts. */
export function createSchedulerWorker(engine: RunEngine, options: JobQueuesOptions & { concurrency?: number }): Worker {
  return createJobWorker(jobQueues.scheduler, schedulerJobHandlers(engine), options);
}
