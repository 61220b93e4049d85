import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, test } from "vitest";

const sample = new URL("./tests/sampleService.ts", import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer().listen(0);
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

async function startSample(stopDelayMs: number) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", sample, String(port), String(stopDelayMs)], { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await expect.poll(() => output, { timeout: 10_000 }).toContain("ready");
  return { child, port, output: () => output };
}

describe("runService", () => {
  test("serves /healthz and /metrics and stops gracefully on SIGTERM", async () => {
    const { child, port, output } = await startSample(0);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^sample_started_total 1$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(output()).toContain("stopped cleanly");
  }, 20_000);

  test("exits non-zero when stopping takes longer than the shutdown timeout", async () => {
    const { child, output } = await startSample(5_000);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(1);
    expect(output()).not.toContain("stopped cleanly");
  }, 20_000);
});
