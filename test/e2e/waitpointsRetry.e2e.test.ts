import { afterAll, beforeAll, expect, test } from "vitest";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * A retried parent attempt starts afresh (or from a checkpoint that predates the wait) and reaches
 * the waits of the failed attempt again. It must wait on the children already triggered, not
 * trigger a second set.
 */
let e: E2EEngine;
beforeAll(async () => {
  e = await E2EEngine.start("e2e_waitpoints_retry", {
    // shorter than triggering the batch's children takes (see the first test); workers beat 4×/s
    HEARTBEAT_EXECUTING_TIMEOUT_MS: "1000",
    HEARTBEAT_PENDING_EXECUTING_TIMEOUT_MS: "15000",
    HEARTBEAT_MONITOR_INTERVAL_MS: "200",
  });
});
afterAll(async () => {
  await e?.close();
});

const workerEnv = { RUNENGINE_WORKER_HEARTBEAT_INTERVAL_MS: "250" };

/**
 * The parent's worker dies while its batchTriggerAndWait is being answered. The engine goes on
 * triggering the children (one by one: each has a delay), and the heartbeat monitor fails the
 * attempt before the wait is blocked and checkpointed, so no checkpoint records it. Another
 * worker retries the parent.
 */
test("a parent retried after its worker's SIGKILL mid-wait waits on the children its first attempt triggered; each ran once", async () => {
  const count = 600;
  const first = await e.startWorker("retry-a", 10, { tasksFile: "waitTasks.ts", env: workerEnv });
  const { id } = await e.client.trigger("slow-batch-parent", { count });
  const children = () => e.db.prisma.taskRun.count({ where: { parentRunId: id } });
  // the wait is being answered: children exist, the worker has no reply yet
  await waitFor(async () => (await children()) > 0, 30_000, 5);
  first.child.kill("SIGKILL");
  await first.exited;
  await e.startWorker("retry-b", 10, { tasksFile: "waitTasks.ts", env: workerEnv });

  const run = await e.client.runs.poll(id, { intervalMs: 250, timeoutMs: 110_000 });
  expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
  expect(run.output).toBe(count);
  const history = (await e.client.runs.history(id)).snapshots;
  // the kill landed before the wait was checkpointed: the attempt failed and was retried
  expect(history.map((s) => s.runStatus)).toContain("RETRYING_AFTER_FAILURE");
  expect(await children()).toBe(count);
  expect(await e.db.prisma.batch.count({ where: { parentRunId: id } })).toBe(1);
  await waitFor(async () => (await e.redis.scard(`${e.prefix}counted:${id}`)) === count, 10_000);
});

test("a parent whose first attempt failed after its triggerAndWait ended gets the finished child's output at once on retry", async () => {
  await e.startWorker("retry-c", 10, { tasksFile: "waitTasks.ts", env: workerEnv });
  const { id } = await e.client.trigger("fails-after-its-wait", { i: 7 });
  const run = await e.client.runs.poll(id, { intervalMs: 250, timeoutMs: 60_000 });
  expect(run.status).toBe("COMPLETED_SUCCESSFULLY");
  expect(run.attemptCount).toBe(2);
  const children = await e.db.prisma.taskRun.findMany({ where: { parentRunId: id }, select: { id: true } });
  expect(children).toHaveLength(1);
  expect(run.output).toEqual({ child: children[0]!.id, output: 7 });
  expect(await e.redis.scard(`${e.prefix}counted:${id}`)).toBe(1);
});
