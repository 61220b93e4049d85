interface Pending<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls made within one tick and hands them to `handle` together: `ack()` calls that
 * arrive together (a consumer finishing a dequeued batch) become `ackMany` script calls, one per
 * env, which pay the per-call work once instead of once per run. `handle` returns one result per
 * item, in order; if it fails, every call of the batch fails with its error.
 */
export class TickBatch<I, R> {
  #pending: Pending<I, R>[] = [];

  constructor(private readonly handle: (items: readonly I[]) => Promise<readonly R[]>) {}

  add(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) process.nextTick(() => this.#flush());
      this.#pending.push({ item, resolve, reject });
    });
  }

  #flush(): void {
    const batch = this.#pending;
    this.#pending = [];
    this.handle(batch.map((entry) => entry.item)).then(
      (results) => batch.forEach((entry, i) => entry.resolve(results[i] as R)),
      (error: unknown) => batch.forEach((entry) => entry.reject(error)),
    );
  }
}
