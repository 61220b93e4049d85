// redlock 5.0.0-beta.2 ships typings (dist/index.d.ts), but its package.json "exports" map does not
// point to them, so NodeNext resolution finds only untyped JavaScript. This declares, from those
// typings, the part of the API RunLocker uses. (A tsconfig "paths" entry would also fix tsc, but
// tsx follows "paths" at run time and would load the .d.ts as the module.)
declare module "redlock" {
  import type { Cluster, Redis } from "ioredis";

  export interface Settings {
    readonly driftFactor: number;
    readonly retryCount: number;
    readonly retryDelay: number;
    readonly retryJitter: number;
    readonly automaticExtensionThreshold: number;
  }

  /** a quorum of Redis servers refused (or failed) the operation on every try */
  export class ExecutionError extends Error {
    readonly attempts: ReadonlyArray<Promise<unknown>>;
  }

  /** A lock held on `resources`: every key set to `value`, valid until `expiration` (epoch ms). */
  export class Lock {
    constructor(redlock: Redlock, resources: string[], value: string, attempts: ReadonlyArray<Promise<unknown>>, expiration: number);
    readonly resources: string[];
    readonly value: string;
    readonly attempts: ReadonlyArray<Promise<unknown>>;
    expiration: number;
  }

  export default class Redlock {
    constructor(clients: Iterable<Redis | Cluster>, settings?: Partial<Settings>);
    /** all of `resources` or none: ExecutionError when any of them is held */
    acquire(resources: string[], duration: number, settings?: Partial<Settings>): Promise<Lock>;
    /** a new Lock valid for `duration` from now; ExecutionError when the keys no longer hold its value */
    extend(lock: Lock, duration: number, settings?: Partial<Settings>): Promise<Lock>;
    /** deletes the keys that still hold the lock's value */
    release(lock: Lock, settings?: Partial<Settings>): Promise<unknown>;
  }
}
