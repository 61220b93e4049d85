import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createTestDatabase, createTestRedis, deleteKeysWithPrefix, testRedisUrl, uniqueRedisPrefix, type TestDatabase } from "@runengine/testing";

const appDir = fileURLToPath(new URL("..", import.meta.url));
const keyPrefix = uniqueRedisPrefix("api-main");
let db: TestDatabase;
let scratch: string;
beforeAll(async () => {
  db = await createTestDatabase("api_main");
  scratch = await mkdtemp(join(tmpdir(), "runengine-api-"));
});
afterAll(async () => {
  const redis = createTestRedis();
  await deleteKeysWithPrefix(redis, keyPrefix);
  redis.disconnect();
  await db.drop();
  await rm(scratch, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  lines: string[];
  address: string;
}

/** Runs `pnpm start`'s command and waits for the api to say where it listens. */
async function startApiProcess(): Promise<Started> {
  const child = spawn(join(appDir, "node_modules/.bin/tsx"), ["src/main.ts"], {
    cwd: appDir,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: testRedisUrl,
      REDIS_KEY_PREFIX: keyPrefix,
      API_PORT: "0",
      API_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      RUNENGINE_DEV_API_KEY_FILE: join(scratch, "api-key"),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: string[] = [];
  const address = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`api exited with ${code} before listening:\n${lines.join("\n")}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      if (line.includes('"api:listening"')) resolve(JSON.parse(line).address);
    });
  });
  return { child, lines, address };
}

async function stop({ child }: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  return exited;
}

test("a first start prints and writes the development key; later starts do not; SIGTERM stops cleanly", { timeout: 60_000 }, async () => {
  const first = await startApiProcess();
  const keyLines = first.lines.filter((line) => line.startsWith("RUNENGINE_API_KEY="));
  expect(keyLines).toHaveLength(1);
  const apiKey = keyLines[0]!.slice("RUNENGINE_API_KEY=".length);
  expect(apiKey).toMatch(/^re_/);
  expect((await readFile(join(scratch, "api-key"), "utf8")).trim()).toBe(apiKey);

  expect((await fetch(`${first.address}/healthz`)).status).toBe(200);
  const run = await fetch(`${first.address}/api/v1/runs/run_missing`, { headers: { authorization: `Bearer ${apiKey}` } });
  // authenticated (not 401), and there is no such run
  expect(run.status).toBe(404);
  expect(await stop(first)).toBe(0);

  const second = await startApiProcess();
  expect(second.lines.some((line) => line.startsWith("RUNENGINE_API_KEY="))).toBe(false);
  expect(await db.prisma.runtimeEnvironment.count()).toBe(1);
  expect(await stop(second)).toBe(0);
});

test("a bad variable stops the process at once, naming it", { timeout: 30_000 }, async () => {
  const child = spawn(join(appDir, "node_modules/.bin/tsx"), ["src/main.ts"], {
    cwd: appDir,
    env: { ...process.env, DATABASE_URL: db.url, API_PORT: "not-a-port" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  expect(code).toBe(1);
  expect(stderr).toMatch(/API_PORT/);
});
