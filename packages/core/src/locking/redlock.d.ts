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

  export type RedlockAbortSignal = AbortSignal & { error?: Error };

  /** a quorum of Redis servers refused (or failed) the operation on every try */
  export class ExecutionError extends Error {
    readonly attempts: ReadonlyArray<Promise<unknown>>;
  }

  export default class Redlock {
    constructor(clients: Iterable<Redis | Cluster>, settings?: Partial<Settings>);
    using<T>(
      resources: string[],
      duration: number,
      settings: Partial<Settings>,
      routine: (signal: RedlockAbortSignal) => Promise<T>,
    ): Promise<T>;
  }
}
