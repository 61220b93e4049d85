/// <reference path="./redlock.d.ts" />
import { AsyncLocalStorage } from "node:async_hooks";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import Redlock, { ExecutionError, Lock } from "redlock";
import { LockAcquisitionTimeoutError, ValidationError } from "../errors/runEngineError.ts";
import { logEvent } from "../logging/logger.ts";

/**
 * Defaults of every RunLocker setting (and of the RUN_LOCK_* variables in config/locking.ts).
 * - durationMs 5000: a crashed holder blocks its run for at most 5 s; long enough that a busy event
 *   loop does not lose the lock between two extensions.
 * - extensionThresholdMs 1000: extend when 1 s is left, room for a slow Redis round trip.
 * - retryCount 50 × retryDelayMs 100 (± retryJitterMs 50), capped by acquireTimeoutMs 5000: a
 *   waiter polls ten times a second for up to 5 s, then fails with LockAcquisitionTimeoutError.
 *   An operation under the lock takes milliseconds, so only a stuck or crashed holder makes
 *   anyone wait that long.
 */
export const runLockDefaults = {
  durationMs: 5_000,
  extensionThresholdMs: 1_000,
  retryCount: 50,
  retryDelayMs: 100,
  retryJitterMs: 50,
  acquireTimeoutMs: 5_000,
} as const;

export interface RunLockerSettings {
  /** lifetime of the lock in Redis; it is extended while the operation runs */
  durationMs: number;
  /** extend when this little of the lifetime is left; at most durationMs − 100 */
  extensionThresholdMs: number;
  /** retries after the first try to take a busy lock */
  retryCount: number;
  /** pause between tries */
  retryDelayMs: number;
  /** random ± spread of each pause */
  retryJitterMs: number;
  /** longest total wait, whatever retryCount allows */
  acquireTimeoutMs: number;
}

/** How long a lock() call waited for its lock; `acquired` false when it gave up. */
export interface LockWaitReport {
  runId: string;
  resource: string;
  waitMs: number;
  attempts: number;
  acquired: boolean;
}

export interface RunLockerOptions extends Partial<RunLockerSettings> {
  /** a connection the locker may use freely (redlock runs scripts on it) */
  redis: Redis;
  /** prefix of the lock keys (REDIS_KEY_PREFIX), so engines and tests sharing a Redis stay apart */
  keyPrefix?: string;
  logger?: Logger;
  /** called once per lock() that had to take the lock (not for reentrant calls); for metrics */
  onWait?: (report: LockWaitReport) => void;
}

/** The Redis key locking a run. */
export function runLockResource(keyPrefix: string, runId: string): string {
  return `${keyPrefix}run:${runId}`;
}

interface HeldLock {
  signal: AbortSignal;
  released: boolean;
  /** commands sent on the locker's connection, answered along with the release (see withRelease) */
  sentBeforeRelease: Promise<unknown>[];
}

// Keyed by resource (prefix included) rather than per locker: two lockers in one process sharing a
// prefix would otherwise deadlock on a nested call for the same run.
const heldLocks = new AsyncLocalStorage<ReadonlyMap<string, HeldLock>>();

/** The signal a holder gets: it fires when the lock is lost, with the extension's error here. */
type LockSignal = AbortSignal & { error?: Error };

/** Tries waiting for one acquisition, by lock key (see tryAcquire). */
type PendingTries = Map<string, { resolve: (lock: Lock | ExecutionError) => void; reject: (error: unknown) => void }>;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * The lock every run mutation takes (invariant 1 of the design): redlock on `<prefix>run:<id>`.
 *
 * - Auto-extends while `fn` runs. If an extension fails (Redis lost the key, the event loop was
 *   blocked past the lifetime), the AbortSignal given to `fn` fires with `signal.error` set: the
 *   operation no longer has exclusivity and must not start new side effects.
 * - Acquisition is bounded: up to 1 + retryCount tries, retryDelayMs ± retryJitterMs apart, never
 *   starting a try past acquireTimeoutMs (so the wait ends within it plus one Redis round trip);
 *   then LockAcquisitionTimeoutError and `fn` never runs.
 * - Reentrant within one async operation: `lock(id)` inside `fn` of `lock(id)` runs at once under
 *   the held lock (tracked with AsyncLocalStorage); other run ids nest as separate locks.
 *   A continuation that outlives `fn` does not inherit the lock.
 * - Released when `fn` settles, whether it returned or threw; `fn`'s error is rethrown as is.
 * - Locks of many runs asked for at once (a batch of runs dispatched, started or finished together)
 *   are taken with one redlock call on all their keys, each then held and released on its own.
 * - Commands `fn` leaves to withRelease are answered along with the release, not before it.
 */
export class RunLocker {
  readonly settings: Readonly<RunLockerSettings>;
  readonly keyPrefix: string;
  private readonly redlock: Redlock;
  private readonly logger: Logger | undefined;
  private readonly onWait: ((report: LockWaitReport) => void) | undefined;
  /** tries made in this turn of the microtask queue, acquired together (see tryAcquire) */
  private pendingTries: PendingTries | undefined;

  constructor(options: RunLockerOptions) {
    this.settings = {
      durationMs: options.durationMs ?? runLockDefaults.durationMs,
      extensionThresholdMs: options.extensionThresholdMs ?? runLockDefaults.extensionThresholdMs,
      retryCount: options.retryCount ?? runLockDefaults.retryCount,
      retryDelayMs: options.retryDelayMs ?? runLockDefaults.retryDelayMs,
      retryJitterMs: options.retryJitterMs ?? runLockDefaults.retryJitterMs,
      acquireTimeoutMs: options.acquireTimeoutMs ?? runLockDefaults.acquireTimeoutMs,
    };
    validateSettings(this.settings);
    this.keyPrefix = options.keyPrefix ?? "";
    this.logger = options.logger;
    this.onWait = options.onWait;
    // These settings govern extension and release only: acquisition retries are done in lock(),
    // one try at a time, so the wait can be bounded in time and measured. One retry per extension
    // call, because holdWhile calls extend again until the lock's expiry.
    this.redlock = new Redlock([options.redis], {
      retryCount: 1,
      retryDelay: this.settings.retryDelayMs,
      retryJitter: this.settings.retryJitterMs,
    });
  }

  /** Runs `fn` holding the lock of run `runId`; see the class comment for the guarantees. */
  async lock<T>(runId: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const resource = runLockResource(this.keyPrefix, runId);
    const held = heldLocks.getStore();
    const reentered = held?.get(resource);
    if (reentered !== undefined && !reentered.released) return fn(reentered.signal);

    const startedAt = performance.now();
    for (let attempt = 1; ; attempt++) {
      const acquired = await this.tryAcquire(resource);
      if (acquired instanceof ExecutionError) {
        const waitMs = performance.now() - startedAt;
        const delayMs = this.retryDelay();
        if (attempt > this.settings.retryCount || waitMs + delayMs > this.settings.acquireTimeoutMs) {
          this.report({ runId, resource, waitMs, attempts: attempt, acquired: false });
          throw new LockAcquisitionTimeoutError({ resource, waitedMs: waitMs, attempts: attempt }, { cause: acquired });
        }
        await sleep(delayMs);
        continue;
      }
      this.report({ runId, resource, waitMs: performance.now() - startedAt, attempts: attempt, acquired: true });
      return this.holdWhile(resource, acquired, held, fn);
    }
  }

  /**
   * One try at `resource`'s lock: the Lock, or redlock's refusal while another operation holds
   * it. The tries made in one turn of the microtask queue (a batch of runs dispatched, started or
   * finished together) go to Redis as one redlock acquisition of all their keys; when any of them
   * is held, each key is tried again alone, so the free ones are not held up by the busy one.
   */
  private tryAcquire(resource: string): Promise<Lock | ExecutionError> {
    let batch = this.pendingTries;
    if (batch === undefined) {
      const tries: PendingTries = new Map();
      this.pendingTries = batch = tries;
      queueMicrotask(() => {
        this.pendingTries = undefined;
        this.flushTries(tries);
      });
    }
    // a second operation on the same run in this turn: one acquisition of a key twice would grant it twice
    if (batch.has(resource)) return this.tryAcquireAlone(resource);
    return new Promise((resolve, reject) => batch.set(resource, { resolve, reject }));
  }

  private flushTries(batch: PendingTries): void {
    const tryEachAlone = () => {
      for (const [resource, waiting] of batch) this.tryAcquireAlone(resource).then(waiting.resolve, waiting.reject);
    };
    if (batch.size === 1) return tryEachAlone();
    this.redlock.acquire([...batch.keys()], this.settings.durationMs, { retryCount: 0 }).then(
      (shared) => {
        // one Lock per key (the keys share the value), so each operation extends and releases its own
        for (const [resource, waiting] of batch) {
          waiting.resolve(new Lock(this.redlock, [resource], shared.value, shared.attempts, shared.expiration));
        }
      },
      (error: unknown) => {
        if (error instanceof ExecutionError) return tryEachAlone();
        for (const waiting of batch.values()) waiting.reject(error);
      },
    );
  }

  /** redlock reports a busy lock (and an unreachable Redis) as ExecutionError; anything else is a programming error */
  private async tryAcquireAlone(resource: string): Promise<Lock | ExecutionError> {
    try {
      return await this.redlock.acquire([resource], this.settings.durationMs, { retryCount: 0 });
    } catch (error) {
      if (error instanceof ExecutionError) return error;
      throw error;
    }
  }

  /**
   * Runs `fn` under `acquired`, extending it while `fn` runs, then releases it. If an extension
   * fails once the lock has expired, `fn`'s signal fires with `signal.error` set.
   */
  private async holdWhile<T>(resource: string, acquired: Lock, held: ReadonlyMap<string, HeldLock> | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { durationMs, extensionThresholdMs } = this.settings;
    const controller = new AbortController();
    const signal: LockSignal = controller.signal;
    let lock = acquired;
    let timer: NodeJS.Timeout | undefined;
    let extension: Promise<void> | undefined;
    // set once fn has settled: an extension in flight then schedules no other
    let settled = false;
    const scheduleExtension = () => {
      if (settled) return;
      timer = setTimeout(() => (extension = extend()), lock.expiration - Date.now() - extensionThresholdMs);
    };
    const extend = async (): Promise<void> => {
      timer = undefined;
      try {
        lock = await this.redlock.extend(lock, durationMs);
        scheduleExtension();
      } catch (error) {
        if (settled) return;
        // still ours for a while: try again (redlock paces the tries)
        if (lock.expiration > Date.now()) return (extension = extend());
        signal.error = error instanceof Error ? error : new Error(String(error));
        this.lockLost(resource, signal.error);
        controller.abort(signal.error);
      }
    };
    scheduleExtension();

    const entry: HeldLock = { signal, released: false, sentBeforeRelease: [] };
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: await heldLocks.run(new Map(held).set(resource, entry), () => fn(signal)) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      entry.released = true;
      settled = true;
    }
    clearTimeout(timer);
    if (extension) await extension.catch(() => undefined);
    try {
      await this.redlock.release(lock);
    } catch (error) {
      // the lock was already lost: the key expires by itself, and fn's outcome is what the caller needs
      this.releaseFailed(resource, error);
    }
    const sent = await Promise.allSettled(entry.sentBeforeRelease);
    if (!outcome.ok) throw outcome.error;
    const failed = sent.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return outcome.value;
  }

  /**
   * Lets the holder of `runId`'s lock return without waiting for the answer to `command`, a
   * command it has already sent on the connection this locker was given. The release goes out
   * behind it on that connection, and Redis applies one connection's commands in the order sent,
   * so whoever takes the lock next sees the command's effect; the holder saves a round trip.
   * lock() settles once both are answered, and rejects with the command's error if it failed.
   * Throws TypeError when the caller does not hold the lock.
   */
  withRelease(runId: string, command: Promise<unknown>): void {
    const held = heldLocks.getStore()?.get(runLockResource(this.keyPrefix, runId));
    if (held === undefined || held.released) throw new TypeError(`RunLocker.withRelease: the lock of ${runId} is not held here`);
    // observed by lock() after the release
    command.catch(() => undefined);
    held.sentBeforeRelease.push(command);
  }

  private retryDelay(): number {
    const { retryDelayMs, retryJitterMs } = this.settings;
    return Math.max(0, retryDelayMs + (Math.random() * 2 - 1) * retryJitterMs);
  }

  private report(report: LockWaitReport): void {
    this.onWait?.(report);
    if (this.logger === undefined) return;
    const fields = { resource: report.resource, waitMs: Math.round(report.waitMs), attempts: report.attempts };
    if (report.acquired) logEvent(this.logger, "trace", "lock:acquired", fields);
    else logEvent(this.logger, "warn", "lock:timedOut", fields);
  }

  private lockLost(resource: string, error: Error | undefined): void {
    if (this.logger !== undefined) logEvent(this.logger, "error", "lock:lost", { resource, error: String(error) });
  }

  private releaseFailed(resource: string, error: unknown): void {
    if (this.logger !== undefined) logEvent(this.logger, "warn", "lock:releaseFailed", { resource, error: String(error) });
  }
}

function validateSettings(settings: RunLockerSettings): void {
  for (const [field, value] of Object.entries(settings)) {
    if (!Number.isInteger(value) || value < 0) throw new ValidationError(field, "must be a non-negative integer (ms or count)");
  }
  // redlock's own rule: an extension must have time to happen before the lock expires
  if (settings.extensionThresholdMs > settings.durationMs - 100) {
    throw new ValidationError("extensionThresholdMs", `must be at most durationMs − 100 (${settings.durationMs - 100})`);
  }
}
