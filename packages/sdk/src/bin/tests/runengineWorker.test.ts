import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { useFakeEngine, waitFor } from "../../testing/harness.ts";

const fake = useFakeEngine();
const bin = fileURLToPath(new URL("../../../bin/runengine-worker.js", import.meta.url));
const tasksFile = fileURLToPath(new URL("./fixtures/tasks.ts", import.meta.url));

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  exited: Promise<number | null>;
}

function runBin(args: string[], env: Record<string, string>): Spawned {
  const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  const child = spawn(process.execPath, [bin, ...args], { env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => stdout, exited };
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("runengine-worker", () => {
  test("loads every exported task, runs work, and stops gracefully on SIGTERM", async () => {
    const engine = await fake.engine();
    const worker = runBin([tasksFile], {
      RUNENGINE_API_URL: engine.url,
      RUNENGINE_API_KEY: engine.apiKey,
      RUNENGINE_WORKER_CONCURRENCY: "4",
      RUNENGINE_WORKER_NAME: "cli-test",
    });
    try {
      const [registered] = await waitFor(() => (engine.workers.size === 1 ? [...engine.workers.values()] : undefined), 15_000);
      expect(registered!.body).toMatchObject({ version: "dev", name: "cli-test", concurrency: 4 });
      expect(registered!.body.tasks.map((t) => t.id).sort()).toEqual(["crash/later", "greet", "greet/slow"]);
      expect(registered!.body.tasks.find((t) => t.id === "greet/slow")?.maxDurationSeconds).toBe(60);

      const run = engine.enqueue("greet", { name: "Ada" });
      await waitFor(() => run.status === "COMPLETED_SUCCESSFULLY");
      expect(run.output).toBe("hello Ada");

      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
      expect([...engine.workers.values()][0]!.deregistered).toBe(true);
      const events = jsonLines(worker.stdout()).map((line) => line.event);
      expect(events).toEqual(expect.arrayContaining(["worker:registered", "attempt:reported", "worker:signal", "worker:stopped"]));
    } finally {
      worker.child.kill("SIGKILL");
    }
  });

  test("an exception no task caught reports the running attempts as CRASHED before the process exits 1", async () => {
    const engine = await fake.engine();
    const worker = runBin([tasksFile], { RUNENGINE_API_URL: engine.url, RUNENGINE_API_KEY: engine.apiKey, RUNENGINE_WORKER_CONCURRENCY: "2" });
    try {
      await waitFor(() => engine.workers.size === 1, 15_000);
      const crashing = engine.enqueue("crash/later", null);
      expect(await worker.exited).toBe(1);
      expect(crashing.status).toBe("CRASHED");
      expect(crashing.results).toEqual([
        { ok: false, reason: "CRASHED", error: expect.objectContaining({ name: "WorkerCrashedError", message: expect.stringContaining("thrown from a timer") }) },
      ]);
      expect([...engine.workers.values()][0]!.deregistered).toBe(true);
    } finally {
      worker.child.kill("SIGKILL");
    }
  });

  test("fails fast, naming RUNENGINE_API_KEY when it is missing", async () => {
    const worker = runBin([tasksFile], { RUNENGINE_API_URL: "http://127.0.0.1:1" });
    expect(await worker.exited).toBe(1);
    const [line] = jsonLines(worker.stdout());
    expect(line).toMatchObject({ level: "error", event: "worker:startFailed" });
    expect(line?.message).toContain("RUNENGINE_API_KEY");
  });
});
