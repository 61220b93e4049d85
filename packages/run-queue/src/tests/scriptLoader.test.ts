import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ScriptLoadError } from "../errors.ts";
import { ScriptRegistry, loadScript, runQueueScripts } from "../scriptLoader.ts";
import { testSetup } from "./redisForTests.ts";

const setup = testSetup("loader");
afterAll(() => setup.teardown());

function scriptDir(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), "rq-lua-"));
  mkdirSync(join(dir, "includes"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return pathToFileURL(`${dir}/`);
}

describe("script loader", () => {
  it("inlines includes once, depth first, and takes the key count from the file name", () => {
    const dir = scriptDir({
      "includes/a.lua": '--- @include "b"\nlocal function a() return b() end',
      "includes/b.lua": "local function b() return 1 end",
      "op-2.lua": '--- @include "a"\n--- @include "b"\nreturn a()',
    });
    const script = loadScript(dir, "op-2.lua", "1.2.3");
    expect(script).toMatchObject({ op: "op", numberOfKeys: 2, commandName: "runqueue:op:1.2.3" });
    expect(script.lua).toBe("local function b() return 1 end\nlocal function a() return b() end\nreturn a()");
  });

  it("throws ScriptLoadError with the include stack for a missing or circular include", () => {
    const missing = scriptDir({ "includes/a.lua": '--- @include "gone"', "op-1.lua": '--- @include "a"' });
    const error = (() => {
      try {
        loadScript(missing, "op-1.lua", "0");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ScriptLoadError);
    expect((error as ScriptLoadError).includeStack).toEqual(["op-1.lua", "includes/a.lua", "includes/gone.lua"]);
    expect((error as ScriptLoadError).code).toBe("SCRIPT_LOAD_FAILED");

    const cycle = scriptDir({ "includes/a.lua": '--- @include "b"', "includes/b.lua": '--- @include "a"', "op-1.lua": '--- @include "a"' });
    expect(() => loadScript(cycle, "op-1.lua", "0")).toThrow(/circular include of includes\/a.lua/);
  });

  it("refuses a file name without the key count", () => {
    expect(() => loadScript(scriptDir({ "op.lua": "return 1" }), "op.lua", "0")).toThrow(ScriptLoadError);
  });

  it("registers versioned commands that run through EVALSHA, loading the script with EVAL when Redis does not know it", async () => {
    // A script body no server has seen: the first EVALSHA gets NOSCRIPT and ioredis falls back to EVAL.
    const marker = randomBytes(8).toString("hex");
    const dir = scriptDir({ "echo-1.lua": `-- ${marker}\nreturn {KEYS[1], ARGV[1]}` });
    const registry = new ScriptRegistry(dir, "9.9.9");
    registry.register(setup.redis);
    const name = registry.get("echo").commandName;
    expect(name).toMatch(/^runqueue:echo:9\.9\.9:[0-9a-f]{8}$/);
    const key = `${setup.prefix}echo`;
    expect(await registry.run(setup.redis, "echo", [key], ["x"])).toEqual([key, "x"]);
    expect(await registry.run(setup.redis, "echo", [key], ["y"])).toEqual([key, "y"]);
    expect(() => registry.run(setup.redis, "echo", [], [])).toThrow(/takes 1 keys/);
  });

  it("loads every script of the package and each compiles on Redis", async () => {
    const registry = runQueueScripts();
    expect(registry.ops().sort()).toEqual([
      "ack", "ackMany", "deadLetters", "dequeue", "enqueue", "explain", "extend", "nack", "reacquire", "reclaim", "redrive",
      "release", "remove", "restoreInFlight", "setConcurrencyLimit", "setPaused", "setRateLimit", "shardPeek", "shardUpdate", "stats",
    ]);
    for (const op of registry.ops()) {
      // SCRIPT LOAD compiles without running; in a cluster it goes to one node, which is enough here.
      expect(await setup.redis.script("LOAD", registry.get(op).lua)).toMatch(/^[0-9a-f]{40}$/);
    }
  });
});
