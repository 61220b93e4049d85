// Child process for crashedHolder.test.ts: takes a run lock, says so, and holds it until killed.
import { Redis } from "ioredis";
import { RunLocker } from "../runLocker.ts";

const [redisUrl, keyPrefix, runId, durationMs] = process.argv.slice(2);
if (redisUrl === undefined || keyPrefix === undefined || runId === undefined || durationMs === undefined) {
  throw new Error("usage: lockHolder.ts <redisUrl> <keyPrefix> <runId> <durationMs>");
}
const locker = new RunLocker({ redis: new Redis(redisUrl), keyPrefix, durationMs: Number(durationMs), extensionThresholdMs: 300 });
await locker.lock(runId, async () => {
  process.stdout.write("locked\n");
  await new Promise(() => setInterval(() => undefined, 60_000));
});
