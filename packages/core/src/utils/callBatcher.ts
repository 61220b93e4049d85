/** One caller's part of a batch: its input, and how to settle its promise. */
export interface BatchedCall<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

export interface CallBatcherOptions<I> {
  /** batches running at once; calls made meanwhile wait and go out together */
  maxInFlight: number;
  /** most calls in one batch */
  maxBatch: number;
  /** calls with the same key never share a batch (the later one waits for the next) */
  keyOf?: (input: I) => string;
}

/**
 * Turns many concurrent calls into few batched ones, as group commit does: while `maxInFlight`
 * batches are running, new calls wait, then go out together. An idle process sends each call
 * alone and at once (after the calls of the same turn of the event loop have joined it); a busy
 * one sends many per round trip, without a timer that would add latency.
 *
 * `runBatch` settles every call it is given; a call it leaves unsettled when it throws gets its
 * error.
 */
export class CallBatcher<I, O> {
  private pending: BatchedCall<I, O>[] = [];
  private inFlight = 0;
  private flushScheduled = false;

  constructor(
    private readonly runBatch: (calls: readonly BatchedCall<I, O>[]) => Promise<void>,
    private readonly options: CallBatcherOptions<I>,
  ) {}

  call(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ input, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.pending.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.takeBatch();
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.scheduleFlush();
      });
    }
  }

  private async run(batch: readonly BatchedCall<I, O>[]): Promise<void> {
    const settled = new Set<BatchedCall<I, O>>();
    const tracked = batch.map((call) => ({
      input: call.input,
      resolve: (output: O) => {
        settled.add(call);
        call.resolve(output);
      },
      reject: (error: unknown) => {
        settled.add(call);
        call.reject(error);
      },
    }));
    try {
      await this.runBatch(tracked);
    } catch (error) {
      for (const call of batch) if (!settled.has(call)) call.reject(error);
    }
  }

  private takeBatch(): BatchedCall<I, O>[] {
    const { keyOf, maxBatch } = this.options;
    if (keyOf === undefined) return this.pending.splice(0, maxBatch);
    const batch: BatchedCall<I, O>[] = [];
    const keys = new Set<string>();
    const later: BatchedCall<I, O>[] = [];
    for (const call of this.pending) {
      const key = keyOf(call.input);
      if (batch.length < maxBatch && !keys.has(key)) {
        keys.add(key);
        batch.push(call);
      } else {
        later.push(call);
      }
    }
    this.pending = later;
    return batch;
  }
}
