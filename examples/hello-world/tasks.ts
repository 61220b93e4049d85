import { AbortTaskRunError, task } from "@runengine/sdk";

/** Greets someone: the smallest task there is. */
export const helloWorld = task({
  id: "hello-world",
  run: async (payload: { name: string }) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return { greeting: `Hello, ${payload.name}!` };
  },
});

/** Fails its first attempt on purpose, to show a retry with backoff in the run's history. */
export const flakyHello = task({
  id: "flaky-hello",
  queue: { name: "flaky", concurrencyLimit: 2 },
  retry: { maxAttempts: 3, minTimeoutInMs: 500, factor: 2 },
  run: async (payload: { name: string }, { ctx }) => {
    if (!payload.name) throw new AbortTaskRunError("a name is required");
    if (ctx.attempt.number === 1) throw new Error("the first attempt always fails");
    return { greeting: `Hello again, ${payload.name} (attempt ${ctx.attempt.number})` };
  },
});
