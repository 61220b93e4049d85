import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RunQueueError, ScriptCode, errorFromScriptCode } from "../index.ts";

describe("script codes", () => {
  it("lua/includes/codes.lua defines exactly the codes of src/codes.ts", () => {
    const lua = readFileSync(new URL("../lua/includes/codes.lua", import.meta.url), "utf8");
    const fromLua = Object.fromEntries([...lua.matchAll(/^\s*([A-Z_]+) = (-?\d+),$/gm)].map((m) => [m[1], Number(m[2])]));
    expect(fromLua).toEqual({ ...ScriptCode });
  });

  it("errorFromScriptCode turns each refusal into a typed error with a stable code", () => {
    const cases = [
      [ScriptCode.RUN_NOT_FOUND, "RUN_NOT_FOUND"],
      [ScriptCode.RUN_NOT_IN_FLIGHT, "RUN_NOT_IN_FLIGHT"],
      [ScriptCode.RUN_NOT_RELEASED, "RUN_NOT_RELEASED"],
      [ScriptCode.RUN_IN_FLIGHT, "RUN_IN_FLIGHT"],
      [ScriptCode.RUN_NOT_DEAD_LETTERED, "RUN_NOT_DEAD_LETTERED"],
      [-99, "UNEXPECTED_REPLY"],
    ] as const;
    for (const [code, name] of cases) {
      const error = errorFromScriptCode(code, "run-1", "op");
      expect(error).toBeInstanceOf(RunQueueError);
      expect(error.code).toBe(name);
      expect(error.runId).toBe("run-1");
      expect(error.name).toBe("RunQueueError");
    }
  });
});
