import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ScriptRegistry } from "../scriptLoader.ts";
import { clusterNodes, testSetup } from "./redisForTests.ts";

const setup = testSetup("batcher");

const libraries: string[] = [];
afterAll(async () => {
  for (const name of libraries) await setup.redis.call("FUNCTION", "DELETE", name).catch(() => undefined);
  await setup.teardown();
});

async function registryOf(lua: string): Promise<ScriptRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "rq-lua-"));
  mkdirSync(join(dir, "includes"));
  writeFileSync(join(dir, "echo-1.lua"), `-- ${randomBytes(8).toString("hex")}\n${lua}`);
  const registry = new ScriptRegistry(pathToFileURL(`${dir}/`), "0.0.0");
  libraries.push(registry.library.name);
  // Loaded first: a call that finds its function missing is sent again after the load, in a pipeline of its own.
  await registry.load(setup.redis);
  return registry;
}

describe("script calls on a single Redis (ScriptBatcher)", () => {
  it.skipIf(clusterNodes?.length)("sends the calls of one tick in one pipeline, each with its own result or error", async () => {
    const registry = await registryOf(`if ARGV[1] == "boom" then return redis.error_reply("boom") end\nreturn {KEYS[1], ARGV[1]}`);
    const key = `${setup.prefix}echo`;
    const pipeline = vi.spyOn(setup.redis as Redis, "pipeline");
    const calls = ["a", "boom", "c"].map((arg) => registry.run(setup.redis, "echo", [key], [arg]));
    const settled = await Promise.allSettled(calls);
    expect(pipeline).toHaveBeenCalledTimes(1);
    pipeline.mockRestore();
    expect(settled[0]).toEqual({ status: "fulfilled", value: [key, "a"] });
    expect(settled[1]).toMatchObject({ status: "rejected", reason: { message: expect.stringMatching(/boom/) } });
    expect(settled[2]).toEqual({ status: "fulfilled", value: [key, "c"] });
    // Calls of different ticks are separate; a lone call needs no pipeline.
    expect(await registry.run(setup.redis, "echo", [key], ["d"])).toEqual([key, "d"]);
    expect(await registry.run(setup.redis, "echo", [key], ["e"])).toEqual([key, "e"]);
  });

  it.skipIf(clusterNodes?.length)("fails the calls of a pipeline that fails as a whole", async () => {
    const registry = await registryOf("return 1");
    const key = `${setup.prefix}echo`;
    const exec = vi.spyOn(Object.getPrototypeOf((setup.redis as Redis).pipeline()), "exec").mockRejectedValueOnce(new Error("connection lost"));
    const settled = await Promise.allSettled([1, 2].map(() => registry.run(setup.redis, "echo", [key], [])));
    exec.mockRestore();
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  });
});
