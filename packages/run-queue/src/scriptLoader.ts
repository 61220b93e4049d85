import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { isCluster, type RedisClient } from "./commands/context.ts";
import { ScriptLoadError } from "./errors.ts";
import { ScriptBatcher } from "./scriptBatcher.ts";

/** One operation of the library: a Redis function. */
export interface LibraryFunction {
  /** The operation, from the file name `<op>-<nKeys>.lua`. */
  op: string;
  numberOfKeys: number;
  /** `runqueue_<version>_<hash>_<op>`: unique to this source, as Redis function names must be across libraries. */
  functionName: string;
}

/** Every script of a directory as one Redis function library (FUNCTION LOAD, FCALL). */
export interface ScriptLibrary {
  name: string;
  code: string;
  functions: Map<string, LibraryFunction>;
}

const FILE_NAME = /^([a-zA-Z]+)-(\d+)\.lua$/;
const INCLUDE = /^--- @include "([a-zA-Z0-9_]+)"\s*$/;
/** Per-call state every function resets first (includes/callState.lua), whether an operation includes it or not. */
const CALL_STATE_INCLUDE = "callState";

function readSource(dir: URL, relative: string, stack: readonly string[]): string {
  try {
    return readFileSync(new URL(relative, dir), "utf8");
  } catch (cause) {
    throw new ScriptLoadError(`cannot read ${relative}`, [...stack, relative], { cause });
  }
}

/**
 * Resolves `--- @include "<name>"` lines to `includes/<name>.lua`, depth first, each include once
 * for the whole library (later mentions are dropped: helpers are `local function`s that must be
 * defined once, before their users). A cycle is an error rather than a silent drop, since it means
 * an include would be used before it is defined. Returns the text of the lines that are not
 * includes; the includes' text goes to `hoisted`.
 */
function splitIncludes(dir: URL, relative: string, stack: readonly string[], seen: Set<string>, hoisted: string[]): string {
  const here = [...stack, relative];
  const own: string[] = [];
  for (const line of readSource(dir, relative, stack).split("\n")) {
    const match = INCLUDE.exec(line);
    if (!match) {
      own.push(line);
      continue;
    }
    hoistInclude(dir, `includes/${match[1]}.lua`, here, seen, hoisted);
  }
  return own.join("\n");
}

function hoistInclude(dir: URL, include: string, stack: readonly string[], seen: Set<string>, hoisted: string[]): void {
  if (stack.includes(include)) {
    throw new ScriptLoadError(`circular include of ${include}`, [...stack, include]);
  }
  if (seen.has(include)) return;
  seen.add(include);
  hoisted.push(splitIncludes(dir, include, stack, seen, hoisted));
}

/**
 * Builds the library from every `<op>-<nKeys>.lua` directly under `dir`. The includes are defined
 * once, at the library's top level, when Redis loads it; each operation's own file becomes the
 * body of its function. As EVALSHA scripts, every call defined its ~35 helper closures again
 * (see "Cost per run" in the README). Since the top level outlives a call, what a call
 * keeps (`includes/callState.lua`) is reset at the start of each function, and `KEYS` / `ARGV`
 * are the library's locals, set from the function's arguments, so the files read as scripts do.
 */
export function buildLibrary(dir: URL, version: string): ScriptLibrary {
  const seen = new Set<string>();
  const hoisted: string[] = [];
  if (existsSync(new URL(`includes/${CALL_STATE_INCLUDE}.lua`, dir))) {
    hoistInclude(dir, `includes/${CALL_STATE_INCLUDE}.lua`, [], seen, hoisted);
  }
  const ops: { op: string; numberOfKeys: number; body: string }[] = [];
  for (const fileName of readdirSync(dir).sort()) {
    if (!fileName.endsWith(".lua")) continue;
    const match = FILE_NAME.exec(fileName);
    if (!match) {
      throw new ScriptLoadError(`script file name must be <op>-<numberOfKeys>.lua`, [fileName]);
    }
    const op = match[1] as string;
    if (ops.some((o) => o.op === op)) {
      throw new ScriptLoadError(`two files define the operation ${op}`, [fileName]);
    }
    ops.push({ op, numberOfKeys: Number(match[2]), body: splitIncludes(dir, fileName, [], seen, hoisted) });
  }
  const hash = createHash("sha1")
    .update(version)
    .update(hoisted.join("\n"))
    .update(ops.map((o) => `${o.op}\n${o.body}`).join("\n"))
    .digest("hex")
    .slice(0, 12);
  const name = `runqueue_${version.replace(/[^a-zA-Z0-9]/g, "_")}_${hash}`;
  const reset = seen.has(`includes/${CALL_STATE_INCLUDE}.lua`) ? "  resetCallState()\n" : "";
  const functions = new Map<string, LibraryFunction>();
  const registrations = ops.map(({ op, numberOfKeys, body }) => {
    const functionName = `${name}_${op}`;
    functions.set(op, { op, numberOfKeys, functionName });
    return `redis.register_function("${functionName}", function(keys, args)\n  KEYS, ARGV = keys, args\n${reset}${body}\nend)`;
  });
  const code = [`#!lua name=${name}`, "local KEYS, ARGV", ...hoisted, ...registrations, ""].join("\n");
  return { name, code, functions };
}

/** Redis answers FCALL of a function it does not have (a new server, a restart, a new cluster node) with this. */
function isFunctionMissing(error: unknown): boolean {
  return error instanceof Error && /Function not found/i.test(error.message);
}

/**
 * The queue's scripts as one Redis function library, called with FCALL. The library is loaded
 * lazily: a call that finds its function missing loads the library (on every master of a cluster)
 * and is sent again, so a restarted or new server needs nothing from the operator. The names carry
 * the package version and a hash of the source, so two versions of the queue on one Redis never
 * call each other's functions.
 */
export class ScriptRegistry {
  readonly library: ScriptLibrary;
  /** Calls on a single Redis go through a per-client batcher (see ScriptBatcher). */
  readonly #batchers = new WeakMap<Redis, ScriptBatcher>();
  /** One load at a time per client, shared by the calls that found the library missing meanwhile. */
  readonly #loads = new WeakMap<RedisClient, Promise<void>>();

  constructor(dir: URL, packageVersion: string) {
    this.library = buildLibrary(dir, packageVersion);
  }

  get(op: string): LibraryFunction {
    const fn = this.library.functions.get(op);
    if (!fn) throw new ScriptLoadError(`no script for the operation ${op}`, [op]);
    return fn;
  }

  ops(): string[] {
    return [...this.library.functions.keys()];
  }

  /** Runs an operation (on a single Redis, in one pipeline with the other calls of the same tick); `keys.length` must equal its key count. */
  run(client: RedisClient, op: string, keys: readonly string[], argv: readonly (string | number)[]): Promise<unknown> {
    const fn = this.get(op);
    if (keys.length !== fn.numberOfKeys) {
      throw new ScriptLoadError(`${op} takes ${fn.numberOfKeys} keys, got ${keys.length}`, [op]);
    }
    const args = [fn.functionName, keys.length, ...keys, ...argv];
    return this.#call(client, args).catch((error: unknown) => {
      if (!isFunctionMissing(error)) throw error;
      return this.load(client).then(() => this.#call(client, args));
    });
  }

  /** FUNCTION LOAD of the library on the client's server, or on every master of a cluster. */
  load(client: RedisClient): Promise<void> {
    let loading = this.#loads.get(client);
    if (!loading) {
      const servers: RedisClient[] = isCluster(client) ? client.nodes("master") : [client];
      loading = Promise.all(servers.map((server) => server.call("FUNCTION", "LOAD", "REPLACE", this.library.code)))
        .then(() => undefined)
        .finally(() => this.#loads.delete(client));
      this.#loads.set(client, loading);
    }
    return loading;
  }

  #call(client: RedisClient, args: readonly (string | number)[]): Promise<unknown> {
    if (isCluster(client)) return client.call("FCALL", ...args);
    let batcher = this.#batchers.get(client);
    if (!batcher) {
      batcher = new ScriptBatcher(client);
      this.#batchers.set(client, batcher);
    }
    return batcher.run(args);
  }
}

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

let defaultRegistry: ScriptRegistry | undefined;

/** The registry of the queue's own scripts in src/lua, loaded once per process. */
export function runQueueScripts(): ScriptRegistry {
  defaultRegistry ??= new ScriptRegistry(new URL("./lua/", import.meta.url), packageJson.version);
  return defaultRegistry;
}
