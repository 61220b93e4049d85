import { describe, expect, it } from "vitest";
import type { CommandContext } from "../commands/context.ts";
import { RunLocator } from "../locator.ts";

describe("RunLocator cache", () => {
  it("keeps at least half and at most maxCached of the most recent runs, and forgets on request", () => {
    // The cache never touches Redis; the context is only needed by lookups.
    const locator = new RunLocator({} as CommandContext, 4);
    for (let i = 1; i <= 7; i++) locator.remember(`r${i}`, `env${i}`);
    expect([1, 2, 3, 4].map((i) => locator.cached(`r${i}`))).toEqual([undefined, undefined, undefined, undefined]);
    expect([5, 6, 7].map((i) => locator.cached(`r${i}`))).toEqual(["env5", "env6", "env7"]);
    locator.forget("r6");
    locator.forget("r7");
    expect(locator.cached("r6")).toBeUndefined();
    expect(locator.cached("r7")).toBeUndefined();
    expect(locator.cached("r5")).toBe("env5");
  });

  it("stays bounded under a long stream of runs (a producer remembers every run it enqueues)", () => {
    const locator = new RunLocator({} as CommandContext, 1_000);
    for (let i = 0; i < 200_000; i++) locator.remember(`r${i}`, "env");
    expect(locator.cached("r199999")).toBe("env");
    expect(locator.cached("r198000")).toBeUndefined();
  });
});
