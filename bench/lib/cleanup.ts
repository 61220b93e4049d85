/**
 * Undo steps registered as resources are created (processes, databases, Redis prefixes), run in
 * reverse order at the end of the bench, after an error, and on Ctrl-C / SIGTERM, so an
 * interrupted run leaves no database, key or process behind on the shared machine.
 */
export class Cleanup {
  private readonly steps: Array<{ label: string; undo: () => Promise<unknown> }> = [];
  private running: Promise<void> | null = null;

  constructor() {
    const onSignal = (sig: NodeJS.Signals) => {
      process.stderr.write(`\n${sig}: stopping processes, dropping bench databases and keys...\n`);
      void this.runAll().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }

  /** Registers `undo`; returns a function that runs it now (once) and unregisters it. */
  add(label: string, undo: () => Promise<unknown>): () => Promise<void> {
    const step = { label, undo };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await undo();
    };
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop()!;
        // One failing step (a process already gone) must not keep the others from running.
        await step.undo().catch((err) => process.stderr.write(`cleanup ${step.label}: ${err instanceof Error ? err.message : String(err)}\n`));
      }
    })();
    return this.running;
  }
}
