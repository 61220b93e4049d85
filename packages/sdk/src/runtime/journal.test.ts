import { describe, expect, test } from "vitest";
import { Journal, JournalMismatchError } from "./journal.ts";
import { runInRuntime, type RunRuntime } from "./runContext.ts";
import { step } from "../step.ts";
import { wait } from "../wait.ts";
import { tasks } from "../tasks.ts";
import { serializeError } from "../errors.ts";
import type { ResumeFromCheckpoint } from "@runengine/core/schemas";

/** A runtime whose engine calls fail the test: everything here must come from the journal. */
function replayRuntime(resume: ResumeFromCheckpoint): RunRuntime {
  const refuse = () => {
    throw new Error("the engine was called during a replay");
  };
  return {
    runId: "run_1",
    workerId: "worker_1",
    api: new Proxy({}, { get: () => refuse }) as RunRuntime["api"],
    fence: { snapshotId: "snap_1" },
    journal: new Journal(resume),
    checkpointThresholdMs: 1_000,
    signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} } as unknown as RunRuntime["logger"],
    suspended: refuse,
    waiting: false,
  };
}

const resume: ResumeFromCheckpoint = {
  checkpointId: "cp_1",
  journal: [
    { type: "step", id: "charge", result: { ok: true, output: { charged: 42 } } },
    { type: "wait", id: "wait.for", waitpointIds: ["wp_time"], completed: true, result: [{ output: null, isError: false }] },
    { type: "step", id: "flaky", result: { ok: false, error: { name: "TypeError", message: "bad" } } },
    { type: "wait", id: "triggerAndWait:child", waitpointIds: ["wp_run"], runIds: ["run_child"], completed: false },
  ],
  completedWaitpoints: [{ id: "wp_run", type: "RUN", output: { name: "Error", message: "child broke" }, isError: true }],
};

describe("replaying a task with its journal", () => {
  test("completed steps and waits return their recorded results without running; the pending wait returns what the engine sent", async () => {
    let charged = 0;
    const runtime = replayRuntime(resume);
    const outcome = await runInRuntime(runtime, async () => {
      const charge = await step.run("charge", () => ++charged);
      await wait.for({ seconds: 30 });
      const flaky = await step.run("flaky", () => "ran again").catch((error: unknown) => serializeError(error));
      const child = await tasks.triggerAndWait("child", {});
      return { charge, flaky, child };
    });
    expect(charged).toBe(0);
    expect(outcome).toEqual({
      charge: { charged: 42 },
      flaky: expect.objectContaining({ name: "TypeError", message: "bad" }),
      child: { ok: false, id: "run_child", error: { name: "Error", message: "child broke" } },
    });
    expect(() => runtime.journal.assertFullyReplayed()).not.toThrow();
    // past the journal, entries are recorded live
    await runInRuntime(runtime, () => step.run("after", () => "live"));
    expect(runtime.journal.all().at(-1)).toEqual({ type: "step", id: "after", result: { ok: true, output: "live" } });
  });

  test("code that reaches a different step than the journal recorded fails with a non-retryable JournalMismatchError", async () => {
    const runtime = replayRuntime(resume);
    const error = await runInRuntime(runtime, () => step.run("refund", () => 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JournalMismatchError);
    expect((error as Error).message).toContain('where the journal recorded step "charge"');
    expect(serializeError(error).retryable).toBe(false);
  });

  test("code that stops before the end of its journal is a mismatch too", async () => {
    const runtime = replayRuntime(resume);
    await runInRuntime(runtime, () => step.run("charge", () => 1));
    expect(() => runtime.journal.assertFullyReplayed()).toThrow(JournalMismatchError);
  });

  test("a live wait names its place in the journal, the same in every attempt, so a retry gets the same children", async () => {
    const sent: unknown[] = [];
    const api = {
      wait: async (_runId: string, body: unknown) => {
        sent.push(body);
        return { snapshotId: "snap_2", waitpointIds: ["wp_next"], runIds: ["run_next"], resumeAt: null, checkpointed: true };
      },
    } as unknown as RunRuntime["api"];
    const task = async () => {
      await step.run("charge", () => 1);
      await wait.for({ seconds: 30 });
      await step.run("flaky", () => 2).catch(() => undefined);
      await tasks.triggerAndWait("child", {});
      await step.run("live", () => 3);
      await tasks.triggerAndWait("next", {});
    };
    // replayed up to the pending wait, then live: checkpoints on the next one and never settles
    void runInRuntime({ ...replayRuntime(resume), api, suspended: () => undefined }, task);
    await expect.poll(() => sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ wait: { kind: "run", taskId: "next" }, journalIndex: 5, checkpoint: { waitId: "triggerAndWait:next" } });
    expect((sent[0] as { checkpoint: { journal: unknown[] } }).checkpoint.journal).toHaveLength(5);
  });

  test("outside a task, waits and steps say where they may be called", async () => {
    await expect(step.run("x", () => 1)).rejects.toThrow(/only be called inside a task/);
    await expect(wait.for({ seconds: 1 })).rejects.toThrow(/only be called inside a task/);
  });
});
