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
afterAll(() => setup.teardown());

function registryOf(lua: string): ScriptRegistry {
  const dir = mkdtempSync(join(tmpdir(), "rq-lua-"));
  mkdirSync(join(dir, "includes"));
  // A body no server has seen yet, so the first call also exercises ioredis's EVAL fallback.
  writeFileSync(join(dir, "echo-1.lua"), `-- ${randomBytes(8).toString("hex")}\n${lua}`);
  const registry = new ScriptRegistry(pathToFileURL(`${dir}/`), "0.0.0");
  registry.register(setup.redis);
  return registry;
}

describe("script calls on a single Redis (ScriptBatcher)", () => {
  it.skipIf(clusterNodes?.length)("sends the calls of one tick in one pipeline, each with its own result or error", async () => {
    const registry = registryOf(`if ARGV[1] == "boom" then return redis.error_reply("boom") end\nreturn {KEYS[1], ARGV[1]}`);
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
    const registry = registryOf("return 1");
    const key = `${setup.prefix}echo`;
    const exec = vi.spyOn(Object.getPrototypeOf((setup.redis as Redis).pipeline()), "exec").mockRejectedValueOnce(new Error("connection lost"));
    const settled = await Promise.allSettled([1, 2].map(() => registry.run(setup.redis, "echo", [key], [])));
    exec.mockRestore();
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
  });
});
