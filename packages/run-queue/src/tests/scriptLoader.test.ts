import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Cluster } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { ScriptLoadError } from "../errors.ts";
import { RunQueue } from "../runQueue.ts";
import { ScriptRegistry, buildLibrary, runQueueScripts } from "../scriptLoader.ts";
import { type TestClient, testSetup } from "./redisForTests.ts";

const setup = testSetup("loader");
const librariesMade: string[] = [];
afterAll(async () => {
  for (const name of librariesMade) await onEveryServer(setup.redis, (server) => server.call("FUNCTION", "DELETE", name).catch(() => undefined));
  await setup.teardown();
});

function scriptDir(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), "rq-lua-"));
  mkdirSync(join(dir, "includes"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return pathToFileURL(`${dir}/`);
}

/** A registry of a library no server has seen yet (a version of its own), deleted after the file. */
function freshRegistry(files: Record<string, string>): ScriptRegistry {
  const registry = new ScriptRegistry(scriptDir(files), `test${randomBytes(6).toString("hex")}`);
  librariesMade.push(registry.library.name);
  return registry;
}

async function onEveryServer(client: TestClient, fn: (server: TestClient) => Promise<unknown>): Promise<void> {
  await Promise.all((client instanceof Cluster ? client.nodes("master") : [client]).map(fn));
}

function loadError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("script loader", () => {
  it("hoists each include once, depth first, to the library's top level; each file is the body of its function", () => {
    const dir = scriptDir({
      "includes/a.lua": '--- @include "b"\nlocal function a() return b() end',
      "includes/b.lua": "local function b() return 1 end",
      "op-2.lua": '--- @include "a"\n--- @include "b"\nreturn a()',
      "other-1.lua": '--- @include "b"\nreturn b()',
    });
    const library = buildLibrary(dir, "1.2.3");
    expect(library.name).toMatch(/^runqueue_1_2_3_[0-9a-f]{12}$/);
    expect([...library.functions.values()]).toEqual([
      { op: "op", numberOfKeys: 2, functionName: `${library.name}_op` },
      { op: "other", numberOfKeys: 1, functionName: `${library.name}_other` },
    ]);
    expect(library.code).toBe(
      [
        `#!lua name=${library.name}`,
        "local KEYS, ARGV",
        "local function b() return 1 end",
        "local function a() return b() end",
        `redis.register_function("${library.name}_op", function(keys, args)`,
        "  KEYS, ARGV = keys, args",
        "return a()",
        "end)",
        `redis.register_function("${library.name}_other", function(keys, args)`,
        "  KEYS, ARGV = keys, args",
        "return b()",
        "end)",
        "",
      ].join("\n"),
    );
    // Another source or version is another library, with other function names.
    expect(buildLibrary(dir, "1.2.4").name).not.toBe(library.name);
  });

  it("throws ScriptLoadError with the include stack for a missing or circular include", () => {
    const missing = scriptDir({ "includes/a.lua": '--- @include "gone"', "op-1.lua": '--- @include "a"' });
    const error = loadError(() => buildLibrary(missing, "0"));
    expect(error).toBeInstanceOf(ScriptLoadError);
    expect((error as ScriptLoadError).includeStack).toEqual(["op-1.lua", "includes/a.lua", "includes/gone.lua"]);
    expect((error as ScriptLoadError).code).toBe("SCRIPT_LOAD_FAILED");

    const cycle = scriptDir({ "includes/a.lua": '--- @include "b"', "includes/b.lua": '--- @include "a"', "op-1.lua": '--- @include "a"' });
    expect(() => buildLibrary(cycle, "0")).toThrow(/circular include of includes\/a.lua/);
  });

  it("refuses a file name without the key count", () => {
    expect(() => buildLibrary(scriptDir({ "op.lua": "return 1" }), "0")).toThrow(ScriptLoadError);
  });

  it("loads the library where Redis does not have it and sends the call again, also after the library is gone", async () => {
    const registry = freshRegistry({ "echo-1.lua": "return {KEYS[1], ARGV[1]}" });
    const key = `${setup.prefix}echo`;
    expect(await registry.run(setup.redis, "echo", [key], ["x"])).toEqual([key, "x"]);
    // As after a restart of a Redis that keeps nothing, or a new cluster node.
    await onEveryServer(setup.redis, (server) => server.call("FUNCTION", "DELETE", registry.library.name));
    const again = await Promise.all(["y", "z"].map((arg) => registry.run(setup.redis, "echo", [key], [arg])));
    expect(again).toEqual([
      [key, "y"],
      [key, "z"],
    ]);
    expect(() => registry.run(setup.redis, "echo", [], [])).toThrow(/takes 1 keys/);
  });

  it("starts every call with a fresh call state, also after a call that failed half way", async () => {
    const registry = freshRegistry({
      "includes/callState.lua": "local SEEN = {}\nlocal function resetCallState() SEEN = {} end",
      "note-1.lua": 'SEEN[#SEEN + 1] = ARGV[1]\nif ARGV[1] == "boom" then error("boom") end\nreturn #SEEN',
    });
    const key = `${setup.prefix}note`;
    expect(await registry.run(setup.redis, "note", [key], ["a"])).toBe(1);
    await expect(registry.run(setup.redis, "note", [key], ["boom"])).rejects.toThrow(/boom/);
    expect(await registry.run(setup.redis, "note", [key], ["b"])).toBe(1);
  });

  it("loads every operation of the package as one library", async () => {
    const registry = runQueueScripts();
    expect(registry.ops().sort()).toEqual([
      "ack", "ackMany", "deadLetters", "dequeue", "dequeueIndexed", "enqueue", "explain", "extend", "nack", "reacquire", "reclaim", "redrive",
      "release", "remove", "restoreInFlight", "setConcurrencyLimit", "setPaused", "setRateLimit", "shardPeek", "shardUpdate", "stats",
    ]);
    expect(RunQueue.functionLibrary).toBe(registry.library.name);
    // The same files under a version of this test's own: the library the engine shares is left alone.
    const own = new ScriptRegistry(new URL("../lua/", import.meta.url), `test${randomBytes(6).toString("hex")}`);
    librariesMade.push(own.library.name);
    await own.load(setup.redis);
    await onEveryServer(setup.redis, async (server) => {
      const [library] = (await server.call("FUNCTION", "LIST", "LIBRARYNAME", own.library.name)) as unknown[][];
      const functions = library?.[library.indexOf("functions") + 1] as unknown[][];
      expect(functions.map((fn) => fn[fn.indexOf("name") + 1]).sort()).toEqual(own.ops().map((op) => own.get(op).functionName).sort());
    });
  });
});
