import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { Cluster, Redis } from "ioredis";
import { ScriptLoadError } from "./errors.ts";
import { ScriptBatcher } from "./scriptBatcher.ts";

/** A script assembled from its .lua file and includes, ready to register. */
export interface LoadedScript {
  /** The operation, from the file name `<op>-<nKeys>.lua`. */
  op: string;
  numberOfKeys: number;
  /** The source with every include inlined once. */
  lua: string;
  /** The ioredis command name: `runqueue:<op>:<version>`. */
  commandName: string;
}

const FILE_NAME = /^([a-zA-Z]+)-(\d+)\.lua$/;
const INCLUDE = /^--- @include "([a-zA-Z0-9_]+)"\s*$/;

function readSource(dir: URL, relative: string, stack: readonly string[]): string {
  try {
    return readFileSync(new URL(relative, dir), "utf8");
  } catch (cause) {
    throw new ScriptLoadError(`cannot read ${relative}`, [...stack, relative], { cause });
  }
}

/**
 * Inlines `--- @include "<name>"` lines with `includes/<name>.lua`, depth first, each include once
 * per script (later mentions are dropped: helpers are `local function`s that must be defined once,
 * before their users). A cycle is an error rather than a silent drop, since it means an include
 * would be used before it is defined.
 */
function resolveIncludes(dir: URL, relative: string, stack: readonly string[], seen: Set<string>): string {
  const here = [...stack, relative];
  const lines = readSource(dir, relative, stack).split("\n");
  const out: string[] = [];
  for (const line of lines) {
    const match = INCLUDE.exec(line);
    if (!match) {
      out.push(line);
      continue;
    }
    const include = `includes/${match[1]}.lua`;
    if (here.includes(include)) {
      throw new ScriptLoadError(`circular include of ${include}`, [...here, include]);
    }
    if (seen.has(include)) continue;
    seen.add(include);
    out.push(resolveIncludes(dir, include, here, seen));
  }
  return out.join("\n");
}

/** Loads one script file; `fileName` must be `<op>-<nKeys>.lua`. */
export function loadScript(dir: URL, fileName: string, version: string): LoadedScript {
  const match = FILE_NAME.exec(fileName);
  if (!match) {
    throw new ScriptLoadError(`script file name must be <op>-<numberOfKeys>.lua`, [fileName]);
  }
  const op = match[1] as string;
  return {
    op,
    numberOfKeys: Number(match[2]),
    lua: resolveIncludes(dir, fileName, [], new Set()),
    commandName: `runqueue:${op}:${version}`,
  };
}

/** Loads every `<op>-<nKeys>.lua` directly under `dir`. */
export function loadScripts(dir: URL, version: string): Map<string, LoadedScript> {
  const scripts = new Map<string, LoadedScript>();
  for (const fileName of readdirSync(dir).sort()) {
    if (!fileName.endsWith(".lua")) continue;
    const script = loadScript(dir, fileName, version);
    if (scripts.has(script.op)) {
      throw new ScriptLoadError(`two files define the operation ${script.op}`, [fileName]);
    }
    scripts.set(script.op, script);
  }
  return scripts;
}

type Client = Redis | Cluster;
type ScriptFunction = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The queue's scripts, registered on a client through ioredis `defineCommand` (which sends EVALSHA
 * and falls back to EVAL when the server answers NOSCRIPT, e.g. after a restart or on a new cluster
 * node). The command name carries the package version and a hash of the source, so two versions of
 * the queue on one client never call each other's script.
 */
export class ScriptRegistry {
  readonly #scripts: Map<string, LoadedScript>;
  /** Calls on a single Redis go through a per-client batcher (see ScriptBatcher). */
  readonly #batchers = new WeakMap<Redis, ScriptBatcher>();

  constructor(dir: URL, packageVersion: string) {
    const raw = loadScripts(dir, packageVersion);
    this.#scripts = new Map();
    for (const [op, script] of raw) {
      const hash = createHash("sha1").update(script.lua).digest("hex").slice(0, 8);
      this.#scripts.set(op, { ...script, commandName: `${script.commandName}:${hash}` });
    }
  }

  get(op: string): LoadedScript {
    const script = this.#scripts.get(op);
    if (!script) throw new ScriptLoadError(`no script for the operation ${op}`, [op]);
    return script;
  }

  ops(): string[] {
    return [...this.#scripts.keys()];
  }

  /** Defines every script on the client; defining one twice is a no-op. */
  register(client: Client): void {
    for (const script of this.#scripts.values()) {
      if (typeof (client as unknown as Record<string, unknown>)[script.commandName] === "function") continue;
      client.defineCommand(script.commandName, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
  }

  /** Runs a script (on a single Redis, in one pipeline with the other calls of the same tick); `keys.length` must equal the script's key count. */
  run(client: Client, op: string, keys: readonly string[], argv: readonly (string | number)[]): Promise<unknown> {
    const script = this.get(op);
    if (keys.length !== script.numberOfKeys) {
      throw new ScriptLoadError(`${op} takes ${script.numberOfKeys} keys, got ${keys.length}`, [op]);
    }
    const fn = (client as unknown as Record<string, ScriptFunction>)[script.commandName];
    if (!fn) throw new ScriptLoadError(`${op} is not registered on this client`, [op]);
    if ((client as { isCluster?: boolean }).isCluster === true) return fn.call(client, ...keys, ...argv);
    let batcher = this.#batchers.get(client as Redis);
    if (!batcher) {
      batcher = new ScriptBatcher(client as Redis);
      this.#batchers.set(client as Redis, batcher);
    }
    return batcher.run(script.commandName, [...keys, ...argv]);
  }
}

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

let defaultRegistry: ScriptRegistry | undefined;

/** The registry of the queue's own scripts in src/lua, loaded once per process. */
export function runQueueScripts(): ScriptRegistry {
  defaultRegistry ??= new ScriptRegistry(new URL("./lua/", import.meta.url), packageJson.version);
  return defaultRegistry;
}
