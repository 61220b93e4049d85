import { Redis } from "ioredis";
import { afterAll, expect, test } from "vitest";
import { testRedisUrl } from "@runengine/testing";
import { RunLocker, runLockResource } from "../runLocker.ts";
import { lockerFixture } from "./lockerFixture.ts";

const { keyPrefix, admin, newLocker } = lockerFixture("locking-with-release");
const connection = new Redis(testRedisUrl);
const locker = new RunLocker({ redis: connection, keyPrefix });
afterAll(() => connection.quit());

test("the release goes out without waiting for the command; lock() settles once both are answered", async () => {
  let answer!: () => void;
  const unanswered = new Promise<void>((resolve) => (answer = resolve));
  let settled = false;
  const locking = locker
    .lock("run_pending", async () => {
      locker.withRelease("run_pending", unanswered);
      return "done";
    })
    .then((value) => {
      settled = true;
      return value;
    });
  const resource = runLockResource(keyPrefix, "run_pending");
  const deadline = Date.now() + 2_000;
  while ((await admin.exists(resource)) === 1) {
    if (Date.now() > deadline) throw new Error("the lock was not released while the command was unanswered");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(settled).toBe(false);
  answer();
  expect(await locking).toBe("done");
});

test("whoever takes the lock next sees the effect of a command left to the release", async () => {
  const counter = `${keyPrefix}counter`;
  const next = newLocker({ retryDelayMs: 1, retryJitterMs: 0 });
  for (let round = 1; round <= 20; round++) {
    let entered!: () => void;
    let finish!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const mayFinish = new Promise<void>((resolve) => (finish = resolve));
    const holding = locker.lock("run_ordered", async () => {
      entered();
      await mayFinish;
      locker.withRelease("run_ordered", connection.incr(counter));
    });
    await inside;
    // started outside the holder's async context, so it is a rival, not a reentrant call
    const waiting = next.lock("run_ordered", () => admin.get(counter));
    await new Promise((resolve) => setTimeout(resolve, 5));
    finish();
    await holding;
    expect(await waiting).toBe(String(round));
  }
});

test("a failed command rejects lock() with its error, after the lock was released", async () => {
  const failure = locker.lock("run_failed", async () => {
    locker.withRelease("run_failed", connection.call("NOSUCHCOMMAND"));
    return "committed";
  });
  await expect(failure).rejects.toThrow(/unknown command/i);
  expect(await admin.exists(runLockResource(keyPrefix, "run_failed"))).toBe(0);
});

test("the holder's own error comes first", async () => {
  const failure = locker.lock("run_threw", async () => {
    locker.withRelease("run_threw", connection.call("NOSUCHCOMMAND"));
    throw new Error("the holder failed");
  });
  await expect(failure).rejects.toThrow("the holder failed");
});

test("only a holder may leave a command to the release", async () => {
  expect(() => locker.withRelease("run_not_held", connection.ping())).toThrow(TypeError);
  await locker.lock("run_other", async () => {
    expect(() => locker.withRelease("run_not_held", connection.ping())).toThrow(TypeError);
  });
});
