/**
 * Runs `pass` every `intervalMs` (measured from the end of one pass to the start of the next)
 * until `signal` aborts; the returned promise settles once the pass in progress has ended. A pass
 * that throws is reported to `onError` and the loop goes on: a background role must outlive a
 * Redis or Postgres outage and carry on once they are back.
 */
export function startIntervalLoop(options: {
  intervalMs: number;
  signal: AbortSignal;
  pass: () => Promise<void>;
  onError: (error: unknown) => void;
}): Promise<void> {
  const { intervalMs, signal, pass, onError } = options;
  return (async () => {
    while (!signal.aborted) {
      try {
        await pass();
      } catch (error) {
        if (!signal.aborted) onError(error);
      }
      await new Promise<void>((resolve) => {
        if (signal.aborted) return resolve();
        const timer = setTimeout(done, intervalMs);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
    }
  })();
}
