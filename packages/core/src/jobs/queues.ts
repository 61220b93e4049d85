import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type JobsOptions } from "bullmq";
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

  /** Every queue the catalog knows, for Bull Board. */
  allQueues(): Queue[] {
    return Object.values(jobQueues).map((name) => this.queue(name));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}

export type JobHandlers<Q extends JobQueueName> = {
  [N in JobName as (typeof jobCatalog)[N]["queue"] extends Q ? N : never]: (payload: JobPayload<N>, job: Job) => Promise<void>;
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
    async (job) => {
      const name = job.name as JobName;
      const entry = jobCatalog[name];
      const handler = (handlers as Record<string, (payload: unknown, job: Job) => Promise<void>>)[name];
      if (!entry || entry.queue !== queue || !handler) throw new Error(`No handler for job ${job.name} on ${queue}`);
      const parsed = entry.schema.safeParse(job.data);
      if (!parsed.success) {
        throw new UnrecoverableError(`Job ${job.name} ${job.id} has an invalid payload: ${parsed.error.message}`);
      }
      await handler(parsed.data, job);
    },
    { connection: options.connection, prefix: options.prefix, concurrency: options.concurrency ?? 50 },
  );
}
