import { createClient } from "@runengine/sdk";
import { flakyHello, helloWorld } from "./tasks.ts";

/** Triggers a few runs of the example tasks, waits for each, and prints its status, output and history. */
const apiUrl = process.env.RUNENGINE_API_URL ?? "http://127.0.0.1:3030";
const apiKey = process.env.RUNENGINE_API_KEY;
if (!apiKey) {
  console.error("RUNENGINE_API_KEY is not set");
  process.exit(1);
}
const client = createClient({ apiUrl, apiKey });

const triggered = [
  await client.trigger(helloWorld, { name: "Ada" }),
  await client.trigger(helloWorld, { name: "Grace" }),
  await client.trigger(flakyHello, { name: "Linus" }),
];
for (const { id } of triggered) {
  const run = await client.runs.poll(id, { intervalMs: 200, timeoutMs: 60_000 });
  const history = await client.runs.history(id);
  console.log(`${run.id} ${run.taskId}: ${run.status} after ${run.attemptCount} attempt(s) → ${JSON.stringify(run.output)}`);
  for (const snapshot of history.snapshots) console.log(`    ${snapshot.executionStatus.padEnd(18)} ${snapshot.description}`);
}
