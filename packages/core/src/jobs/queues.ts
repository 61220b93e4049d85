import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions } from "bullmq";
import { jobCatalog, jobQueues, type JobName, type JobPayload, type JobQueueName } from "./catalog.ts";

export interface JobQueuesOptions {
  connection: ConnectionOptions;
  /** BullMQ key prefix; tests give each file its own */
  prefix?: string;
}

/** Typed producer over every queue of the catalog. */
export class JobProducer {
  private readonly queues = new Map<JobQueueName, Queue>();

  constructor(private readonly options: JobQueuesOptions) {}

  private queue(name: JobQueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Validates the payload and adds the job; `jobId` makes it unique (a second add is a no-op). */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options: Pick<JobsOptions, "jobId" | "delay"> = {}): Promise<void> {
    const entry = jobCatalog[name];
    const data = entry.schema.parse(payload);
    await this.queue(entry.queue).add(name, data, {
      ...options,
      attempts: entry.attempts,
      backoff: { type: "exponential", delay: 200 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }

  /** Removes a scheduled job by id (a cancelled delayed run). True when there was one. */
  async remove(name: JobName, jobId: string): Promise<boolean> {
    return (await this.queue(jobCatalog[name].queue).remove(jobId)) === 1;
  }

  /**
   * Places the one job of its subject (the catalog's `jobId`) to run at `at`, replacing the one
   * already there, due earlier or later. A job being processed right now cannot be removed and
   * keeps its id: its handler reads the due time from Postgres and moves itself (`DelayedError`).
   */
  async schedule<N extends ScheduledJobName>(name: N, payload: JobPayload<N>, at: Date): Promise<void> {
    const jobId = scheduledJobId(name, payload);
    await this.queue(jobCatalog[name].queue).remove(jobId);
    await this.enqueue(name, payload, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
  }

  /** Removes the scheduled job of a subject, if it is there and not being processed. */
  async unschedule<N extends ScheduledJobName>(name: N, payload: JobPayload<N>): Promise<boolean> {
    return this.remove(name, scheduledJobId(name, payload));
  }

  /** True when the one job of this subject exists (waiting, delayed or being processed). */
  async isScheduled<N extends ScheduledJobName>(name: N, payload: JobPayload<N>): Promise<boolean> {
    return (await this.queue(jobCatalog[name].queue).getJob(scheduledJobId(name, payload))) !== undefined;
  }

  /**
   * Removes a job that exhausted its attempts (kept for inspection), so that its id can be added
   * again: a reconcile after an outage re-arms work whose job gave up. True when there was one.
   */
  async removeIfFailed(name: JobName, jobId: string): Promise<boolean> {
    const job = await this.queue(jobCatalog[name].queue).getJob(jobId);
    if (!job || !(await job.isFailed())) return false;
    await job.remove();
    return true;
  }

  /** Every queue the catalog knows, for Bull Board. */
  allQueues(): Queue[] {
    return Object.values(jobQueues).map((name) => this.queue(name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

/** The jobs that exist once per subject: their catalog entry names a `jobId`. */
export type ScheduledJobName = { [N in JobName]: (typeof jobCatalog)[N] extends { jobId: unknown } ? N : never }[JobName];

/** The id of the one job of a subject (the catalog's `jobId`). */
export function scheduledJobId<N extends ScheduledJobName>(name: N, payload: JobPayload<N>): string {
  return (jobCatalog[name].jobId as (payload: JobPayload<N>) => string)(payload);
}

/** `token` is the worker's lock on the job, for a handler that moves its job (`job.moveToDelayed`). */
export type JobHandlers<Q extends JobQueueName> = {
  [N in JobName as (typeof jobCatalog)[N]["queue"] extends Q ? N : never]: (payload: JobPayload<N>, job: Job, token?: string) => Promise<void>;
};

/**
 * A BullMQ worker for one queue of the catalog that validates each payload and dispatches it to
 * the handler of its job name. A payload that does not parse fails the job without retries: it
 * can never succeed.
 */
export function createJobWorker<Q extends JobQueueName>(
  queue: Q,
  handlers: JobHandlers<Q>,
  options: JobQueuesOptions & { concurrency?: number },
): Worker {
  return new Worker(
    queue,
    async (job, token) => {
      const name = job.name as JobName;
      const entry = jobCatalog[name];
      const handler = (handlers as Record<string, (payload: unknown, job: Job, token?: string) => Promise<void>>)[name];
      if (!entry || entry.queue !== queue || !handler) throw new Error(`No handler for job ${job.name} on ${queue}`);
      const parsed = entry.schema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`Job ${job.name} ${job.id} has an invalid payload: ${parsed.error.message}`);
      }
      await handler(parsed.data, job, token);
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 50 },
  );
}

/**
 * What a handler calls, inside its run's lock, when its job is not due yet (the due time moved
 * while the job was being processed): the job is moved to `at`, keeping its id, and ends now.
 */
export type DeferJob = (at: Date) => Promise<never>;

/** The DeferJob of a job a worker holds with `token`. */
export function jobDeferrer(job: Job, token: string | undefined): DeferJob {
  return async (at) => {
    await job.moveToDelayed(at.getTime(), token);
    // tells BullMQ the job was moved, not finished
    throw new DelayedError();
  };
}
