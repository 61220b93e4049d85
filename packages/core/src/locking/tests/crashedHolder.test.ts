import { spawn } from "node:child_process";
import { once } from "node:events";
import { expect, test } from "vitest";
import { testRedisUrl } from "@runengine/testing";
import { runLockResource } from "../runLocker.ts";
import { lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, admin, newLocker } = lockerFixture("locking-crash");
const durationMs = 1_500;
const holderScript = new URL("./lockHolder.ts", import.meta.url).pathname;

test("a holder killed with SIGKILL blocks its run until the lock expires, then the next operation proceeds", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", holderScript, testRedisUrl, keyPrefix, "run_crash", String(durationMs)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [firstLine] = (await once(child.stdout, "data")) as [Buffer];
  expect(firstLine.toString()).toBe("locked\n");

  const remainingAtKill = await admin.pttl(runLockResource(keyPrefix, "run_crash"));
  child.kill("SIGKILL");
  await once(child, "exit");
  const killedAt = performance.now();

  const next = newLocker({ retryCount: 10_000, retryDelayMs: 10, retryJitterMs: 0, acquireTimeoutMs: durationMs * 2 });
  await next.lock("run_crash", async () => undefined);
  const blockedMs = performance.now() - killedAt;

  console.info(`crashed holder: lock duration ${durationMs} ms, TTL left at kill ${remainingAtKill} ms, next holder got it ${Math.round(blockedMs)} ms after the kill`);
  // the kill released nothing: the run stayed locked for the rest of the lock's lifetime...
  expect(remainingAtKill).toBeGreaterThan(durationMs - 300);
  expect(blockedMs).toBeGreaterThan(remainingAtKill - 100);
  // ...and no longer: nothing else has to repair it
  expect(blockedMs).toBeLessThan(durationMs + 100);
});
