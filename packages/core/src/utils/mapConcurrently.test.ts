import { describe, expect, test } from "vitest";
import { mapConcurrently } from "./mapConcurrently.ts";

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("mapConcurrently", () => {
  test("keeps the items' order and never runs more than `width` at once", async () => {
    let running = 0;
    let peak = 0;
    const results = await mapConcurrently([5, 1, 4, 2, 3, 0, 6], 3, async (ms, index) => {
      running++;
      peak = Math.max(peak, running);
      await tick(ms * 3);
      running--;
      return `${index}:${ms}`;
    });
    expect(results).toEqual(["0:5", "1:1", "2:4", "3:2", "4:3", "5:0", "6:6"]);
    expect(peak).toBe(3);
  });

  test("the first failure rejects the call, and no item starts after it", async () => {
    const started: number[] = [];
    const call = mapConcurrently([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      await tick(5);
      if (item === 1) throw new Error("item 1 failed");
      return item;
    });
    await expect(call).rejects.toThrow("item 1 failed");
    expect(started.length).toBeLessThan(6);
  });

  test("no items, no calls", async () => {
    expect(await mapConcurrently([], 4, async () => 1)).toEqual([]);
  });
});
