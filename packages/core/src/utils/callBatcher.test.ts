import { expect, test } from "vitest";
import { CallBatcher, type BatchedCall } from "./callBatcher.ts";

/** A batcher whose batches finish only when the test says so; it records every batch it ran. */
function gatedBatcher(options: { maxInFlight: number; maxBatch: number; keyOf?: (input: string) => string }) {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const batcher = new CallBatcher<string, string>(async (calls: readonly BatchedCall<string, string>[]) => {
    batches.push(calls.map((call) => call.input));
    await new Promise<void>((open) => gates.push(open));
    for (const call of calls) call.resolve(`done ${call.input}`);
  }, options);
  const openAll = () => gates.splice(0).forEach((open) => open());
  return { batcher, batches, openAll };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("calls of one turn go out together; calls made while a batch runs wait and go out as the next batch", async () => {
  const { batcher, batches, openAll } = gatedBatcher({ maxInFlight: 1, maxBatch: 100 });
  const first = ["a", "b"].map((input) => batcher.call(input));
  await turn();
  expect(batches).toEqual([["a", "b"]]);

  const second = ["c", "d", "e"].map((input) => batcher.call(input));
  await turn();
  expect(batches).toHaveLength(1);

  openAll();
  expect(await Promise.all(first)).toEqual(["done a", "done b"]);
  await turn();
  await turn();
  expect(batches).toEqual([["a", "b"], ["c", "d", "e"]]);
  openAll();
  expect(await Promise.all(second)).toEqual(["done c", "done d", "done e"]);
});

test("up to maxInFlight batches run at once, each at most maxBatch calls", async () => {
  const { batcher, batches, openAll } = gatedBatcher({ maxInFlight: 2, maxBatch: 2 });
  const calls = ["a", "b", "c", "d", "e"].map((input) => batcher.call(input));
  await turn();
  expect(batches).toEqual([["a", "b"], ["c", "d"]]);
  openAll();
  await turn();
  await turn();
  expect(batches).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  openAll();
  expect(await Promise.all(calls)).toHaveLength(5);
});

test("calls with the same key never share a batch", async () => {
  const { batcher, batches, openAll } = gatedBatcher({ maxInFlight: 1, maxBatch: 10, keyOf: (input) => input.split(":")[0]! });
  const calls = ["run1:x", "run2:x", "run1:y"].map((input) => batcher.call(input));
  await turn();
  expect(batches).toEqual([["run1:x", "run2:x"]]);
  openAll();
  await turn();
  await turn();
  expect(batches).toEqual([["run1:x", "run2:x"], ["run1:y"]]);
  openAll();
  await Promise.all(calls);
});

test("a batch that throws fails the calls it did not settle, and the batcher goes on", async () => {
  let fail = true;
  const batcher = new CallBatcher<string, string>(async (calls) => {
    if (fail) {
      calls[0]!.resolve("settled before the failure");
      throw new Error("boom");
    }
    for (const call of calls) call.resolve(call.input);
  }, { maxInFlight: 1, maxBatch: 10 });

  const outcomes = await Promise.allSettled([batcher.call("a"), batcher.call("b")]);
  expect(outcomes).toEqual([
    { status: "fulfilled", value: "settled before the failure" },
    { status: "rejected", reason: new Error("boom") },
  ]);
  fail = false;
  expect(await batcher.call("c")).toBe("c");
});
