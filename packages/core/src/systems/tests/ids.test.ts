import { expect, test } from "vitest";
import { newEdgeIds, newRunId } from "../ids.ts";

test("ids are unique across many refills of the random pool, and keep their format", () => {
  const ids = Array.from({ length: 20_000 }, () => newRunId());
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids.slice(0, 100)) expect(id).toMatch(/^run_[0-9a-z]{9}[0-9a-f]{16}$/);
  expect(new Set(ids.map((id) => id.slice(-16))).size).toBe(ids.length);
});

test("ids made in a later millisecond sort after earlier ones", async () => {
  const first = newRunId();
  await new Promise((resolve) => setTimeout(resolve, 2));
  const later = newRunId();
  expect([later, first].sort()).toEqual([first, later]);
});

test("the edge ids of one wait share a prefix and sort in their order", () => {
  const edges = newEdgeIds(12);
  expect([...edges].sort()).toEqual(edges);
  expect(new Set(edges.map((id) => id.slice(0, -4))).size).toBe(1);
});
