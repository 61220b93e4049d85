import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { fileURLToPath } from "node:url";
import { testRedisUrl } from "./testRedis.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
/** Each process's output goes to a file here, kept for reading after a failed run. */
export const processLogDir = join(repoRoot, "test-artifacts", "logs");

export type Role = "api" | "dispatcher" | "finalizer" | "heartbeat-monitor" | "scheduler";
export const roles: readonly Role[] = ["api", "dispatcher", "finalizer", "heartbeat-monitor", "scheduler"];

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** resolves with the exit code (or the signal) */
  exited: Promise<number | NodeJS.Signals>;
  output(): string;
}

/**
 * Starts `node --import tsx <script> ...args` writing its output straight into its log file, so no
 * test or bench process spends CPU relaying it (a bench would count that against the engine's
 * throughput); `output()` reads what this process has written so far.
 */
export function startNodeProcess(name: string, script: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
  mkdirSync(processLogDir, { recursive: true });
  const logPath = join(processLogDir, `${name}.log`);
  const logFd = openSync(logPath, "a");
  const output = outputSince(logPath, fstatSync(logFd).size);
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", logFd, logFd],
  });
  // the child holds its own copy of the descriptor
  closeSync(logFd);
  const exited = new Promise<number | NodeJS.Signals>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal ?? 0));
  });
  return { name, child, exited, output };
}

/** What was appended to the file at `path` from byte `start` on; each call reads only the new bytes. */
function outputSince(path: string, start: number): () => string {
  const decoder = new StringDecoder("utf8");
  const chunk = Buffer.alloc(64 * 1024);
  let position = start;
  let text = "";
  return () => {
    const fd = openSync(path, "r");
    try {
      for (let read = readSync(fd, chunk, 0, chunk.length, position); read > 0; read = readSync(fd, chunk, 0, chunk.length, position)) {
        position += read;
        text += decoder.write(chunk.subarray(0, read));
      }
    } finally {
      closeSync(fd);
    }
    return text;
  };
}

export interface EngineProcessesOptions {
  /** a label for log file names */
  label: string;
  databaseUrl: string;
  keyPrefix: string;
  /** replicas per role (default 1 each) */
  replicas?: Partial<Record<Role, number>>;
  /** extra environment for every role */
  env?: NodeJS.ProcessEnv;
}

export interface EngineProcesses {
  apiUrl: string;
  adminToken: string;
  processes: Map<string, ManagedProcess>;
  /** starts (again) one replica of a role under its name, e.g. "finalizer-0" */
  start(name: string): Promise<ManagedProcess>;
  kill(name: string, signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

const healthPortVariables: Record<Exclude<Role, "api">, string> = {
  dispatcher: "DISPATCHER_HEALTH_PORT",
  finalizer: "FINALIZER_HEALTH_PORT",
  "heartbeat-monitor": "HEARTBEAT_MONITOR_HEALTH_PORT",
  scheduler: "SCHEDULER_HEALTH_PORT",
};

/** Starts every role of the engine as its own process, as a user's deployment would. */
export async function startEngineProcesses(options: EngineProcessesOptions): Promise<EngineProcesses> {
  const apiPort = await freePort();
  const adminToken = `admin-${Math.random().toString(36).slice(2)}`;
  const baseEnv: NodeJS.ProcessEnv = {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: options.keyPrefix,
    ADMIN_TOKEN: adminToken,
    API_PORT: String(apiPort),
    API_HOST: "127.0.0.1",
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? "info",
    ...options.env,
  };
  const processes = new Map<string, ManagedProcess>();
  const apiUrl = `http://127.0.0.1:${apiPort}`;

  const start = async (name: string) => {
    const role = roles.find((r) => name.startsWith(`${r}-`));
    if (!role) throw new Error(`no role in process name ${name}`);
    // Every replica serves /healthz on a port of its own (the api's first replica on the one tests
    // call), and counts as started once it answers there: only then does a role do its work.
    const portVariable = role === "api" ? "API_PORT" : healthPortVariables[role];
    const port = role === "api" && name === "api-0" ? apiPort : (options.env?.[portVariable] ?? String(await freePort()));
    const env = { ...baseEnv, [portVariable]: String(port) };
    const started = startNodeProcess(`${options.label}-${name}`, join(repoRoot, "apps", role, "src", "main.ts"), [], env);
    processes.set(name, started);
    await waitForHealthy(`http://127.0.0.1:${port}`, started);
    return started;
  };

  for (const role of roles) {
    for (let i = 0; i < (options.replicas?.[role] ?? 1); i++) await start(`${role}-${i}`);
  }

  return {
    apiUrl,
    adminToken,
    processes,
    start,
    async kill(name, signal) {
      const target = processes.get(name);
      if (!target || target.child.exitCode !== null) return;
      target.child.kill(signal);
      await target.exited;
    },
    async stop() {
      await Promise.all(
        [...processes.values()].map(async (p) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return;
          p.child.kill("SIGTERM");
          const timer = setTimeout(() => p.child.kill("SIGKILL"), 20_000);
          await p.exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/** Generous: a process started on a machine whose cores other tests keep busy may take a minute to load. */
async function waitForHealthy(url: string, process: ManagedProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.child.exitCode !== null) throw new Error(`${process.name} exited early:\n${process.output()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${process.name} not healthy after ${timeoutMs} ms:\n${process.output()}`);
}

/** Creates an environment through the admin route, as an operator would; returns its id and key. */
export async function createEnvironmentThroughApi(engine: EngineProcesses, name: string, options: { concurrencyLimit?: number } = {}): Promise<{ id: string; apiKey: string }> {
  const res = await fetch(`${engine.apiUrl}/api/v1/environments`, {
    method: "POST",
    headers: { authorization: `Bearer ${engine.adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name, ...options }),
  });
  if (res.status !== 201) throw new Error(`creating environment ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; apiKey: string };
}

const workerBin = join(repoRoot, "packages", "sdk", "src", "bin", "runengineWorker.ts");

export interface WorkerProcessOptions {
  /** process name, for its log file */
  name: string;
  apiUrl: string;
  apiKey: string;
  tasksFile: string;
  concurrency: number;
  version: string;
  /** extra environment for the task code */
  env?: NodeJS.ProcessEnv;
}

/** Spawns a `runengine-worker` process; `waitForRegistration` resolves once it has registered. */
export function spawnWorkerProcess(options: WorkerProcessOptions): ManagedProcess {
  return startNodeProcess(options.name, workerBin, [options.tasksFile], {
    RUNENGINE_API_URL: options.apiUrl,
    RUNENGINE_API_KEY: options.apiKey,
    RUNENGINE_WORKER_CONCURRENCY: String(options.concurrency),
    RUNENGINE_WORKER_NAME: options.name,
    RUNENGINE_WORKER_VERSION: options.version,
    ...options.env,
  });
}

/** Waits for a worker process's `worker:registered` line; throws if it exits or takes too long. */
export async function waitForRegistration(worker: ManagedProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!worker.output().includes("worker:registered")) {
    if (worker.child.exitCode !== null) throw new Error(`${worker.name} exited:\n${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`${worker.name} not registered after ${timeoutMs} ms:\n${worker.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
