/**
 * `pnpm start`: every role of the engine in one terminal (the same code the containers run), each
 * as its own process with its output prefixed. `pnpm start --example` also applies the migrations,
 * starts the example worker (examples/hello-world) and triggers example runs; add `--exit` to stop
 * everything once the example has printed its runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ensureDatabaseExists, migrate } from "@runengine/database";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const withExample = process.argv.includes("--example");
const exitAfterExample = process.argv.includes("--exit");

const env: NodeJS.ProcessEnv = {
  ...process.env,
  DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/runengine",
  REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  API_PORT: process.env.API_PORT ?? "3030",
  ADMIN_TOKEN: process.env.ADMIN_TOKEN ?? randomBytes(16).toString("hex"),
};
const apiUrl = `http://127.0.0.1:${env.API_PORT}`;
/** Engine roles stop last, so workers can hand back their runs and deregister on the way out. */
const roleProcesses: ChildProcess[] = [];
const clientProcesses: ChildProcess[] = [];
const colors = [36, 35, 33, 32, 34, 31];

/** Starts `node --import tsx ...args`, its output prefixed; `onLine` sees each line it prints. */
function run(name: string, args: string[], group: ChildProcess[], extraEnv: NodeJS.ProcessEnv = {}, onLine?: (line: string) => void): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: repoRoot, env: { ...env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = `\x1b[${colors[(roleProcesses.length + clientProcesses.length) % colors.length]}m${name.padEnd(17)}\x1b[0m|`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      console.log(`${prefix} ${line}`);
      onLine?.(line);
    });
  }
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.log(`${prefix} exited (${code ?? signal})`);
    // An engine role that dies (a port in use, a bad setting) leaves no engine: stop rather than pretend.
    if (group === roleProcesses) {
      console.log(`\nThe ${name} role stopped; stopping everything.`);
      void stopAll(1);
    }
  });
  group.push(child);
  return child;
}

function stop(children: ChildProcess[]): Promise<unknown> {
  return Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
}

let stopping = false;
async function stopAll(code: number): Promise<never> {
  stopping = true;
  await stop(clientProcesses);
  await stop(roleProcesses);
  process.exit(code);
}
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));

async function waitForApi(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${apiUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the api did not become healthy at ${apiUrl}`);
}

/** The example's key: kept in .runengine/ so a restart reuses its environment. */
async function exampleApiKey(): Promise<string> {
  const file = join(repoRoot, ".runengine", "example-api-key");
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    const check = await fetch(`${apiUrl}/api/v1/runs?limit=1`, { headers: { authorization: `Bearer ${saved}` } });
    if (check.ok) return saved;
  }
  const res = await fetch(`${apiUrl}/api/v1/environments`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `example-${Date.now()}` }),
  });
  if (!res.ok) throw new Error(`creating the example environment failed: ${res.status} ${await res.text()}`);
  const { apiKey } = (await res.json()) as { apiKey: string };
  mkdirSync(join(repoRoot, ".runengine"), { recursive: true });
  writeFileSync(file, `${apiKey}\n`, { mode: 0o600 });
  return apiKey;
}

if (withExample) {
  if (await ensureDatabaseExists(env.DATABASE_URL!)) console.log("created the database");
  const result = await migrate({ databaseUrl: env.DATABASE_URL! });
  console.log(`migrations: ${result.applied.length} applied now, ${result.alreadyApplied.length} already applied`);
}
for (const role of ["api", "dispatcher", "finalizer", "heartbeat-monitor", "scheduler"]) run(role, [`apps/${role}/src/main.ts`], roleProcesses);
await waitForApi();
console.log(`\nRun Engine is up: api ${apiUrl}, admin token ${env.ADMIN_TOKEN} (Bull Board at ${apiUrl}/admin/queues)\n`);

if (withExample) {
  const apiKey = await exampleApiKey();
  const exampleEnv = { RUNENGINE_API_URL: apiUrl, RUNENGINE_API_KEY: apiKey, RUNENGINE_WORKER_VERSION: "example-1" };
  // A trigger can only name a task once a worker has registered it.
  await new Promise<void>((resolve, reject) => {
    const worker = run("worker", ["packages/sdk/src/bin/runengineWorker.ts", "examples/hello-world/tasks.ts"], clientProcesses, exampleEnv, (line) => {
      if (line.includes('"worker:registered"')) resolve();
    });
    worker.once("exit", (code) => reject(new Error(`the example worker exited (${code}) before registering`)));
  });
  const trigger = run("example", ["examples/hello-world/trigger.ts"], clientProcesses, exampleEnv);
  const code = await new Promise<number>((resolve) => trigger.once("exit", (c) => resolve(c ?? 1)));
  console.log(code === 0 ? "\nThe example finished." : `\nThe example failed (exit ${code}).`);
  if (exitAfterExample || code !== 0) await stopAll(code);
  console.log(`Everything keeps running; RUNENGINE_API_KEY=${apiKey}. Ctrl-C stops it.`);
}
