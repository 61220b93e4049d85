import { z } from "zod";
import type { JsonTransport } from "../http/jsonTransport.ts";

/** What a queue (or one of its concurrency keys) holds: runs waiting, runs holding a slot, the limit. */
export interface QueueLoad {
  queued: number;
  inFlight: number;
  /** null: no limit */
  limit: number | null;
}

/** A queue of the environment as the api shows it. */
export interface Queue extends QueueLoad {
  name: string;
  /** the limit the tasks declare; `limit` differs from it while a limit set here holds */
  declaredLimit: number | null;
  limitOverridden: boolean;
  paused: boolean;
  rateLimit: { limit: number; periodMs: number; perKey: boolean } | null;
  concurrencyKeys: (QueueLoad & { key: string })[];
}

export interface QueueClient {
  list(): Promise<Queue[]>;
  /** Its runs stay queued and none is handed out until `resume`. */
  pause(name: string): Promise<Queue>;
  resume(name: string): Promise<Queue>;
  /** Holds over the limit the tasks declare, also for later deployments; null lifts the limit. */
  setConcurrencyLimit(name: string, limit: number | null): Promise<Queue>;
}

const load = { queued: z.number(), inFlight: z.number(), limit: z.number().nullable() };
export const queueSchema: z.ZodType<Queue> = z.looseObject({
  name: z.string(),
  ...load,
  declaredLimit: z.number().nullable(),
  limitOverridden: z.boolean(),
  paused: z.boolean(),
  rateLimit: z.object({ limit: z.number(), periodMs: z.number(), perKey: z.boolean() }).nullable(),
  concurrencyKeys: z.array(z.object({ key: z.string(), ...load })),
});
const queueListSchema = z.object({ data: z.array(queueSchema) });

/** `client.queues`: the environment's queues over `/api/v1/queues`. */
export function queueClient(request: JsonTransport): QueueClient {
  const path = (name: string, action: string) => `/api/v1/queues/${encodeURIComponent(name)}/${action}`;
  return {
    list: async () => (await request({ method: "GET", path: "/api/v1/queues", schema: queueListSchema, retry: true })).data,
    // repeating any of these leaves the queue as one call would
    pause: (name) => request({ method: "POST", path: path(name, "pause"), schema: queueSchema, retry: true }),
    resume: (name) => request({ method: "POST", path: path(name, "resume"), schema: queueSchema, retry: true }),
    setConcurrencyLimit: (name, limit) => request({ method: "PUT", path: path(name, "concurrency"), body: { limit }, schema: queueSchema, retry: true }),
  };
}
