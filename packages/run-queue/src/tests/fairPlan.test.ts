import { describe, expect, it } from "vitest";
import { planShares } from "../fairPlan.ts";

const env = (envId: string, score: number) => ({ envId, shard: 0, score });

describe("planShares", () => {
  it("splits a batch evenly between envs at the same virtual time", () => {
    const plan = planShares([env("a", 5), env("b", 5), env("c", 5)], 9);
    expect([...plan.values()]).toEqual([3, 3, 3]);
  });

  it("fills the envs that are behind first, up to the others' level", () => {
    const a = env("a", 0);
    const b = env("b", 6);
    const plan = planShares([b, a], 10);
    expect(plan.get(a)).toBe(8);
    expect(plan.get(b)).toBe(2);
  });

  it("gives nothing for no candidates or no count", () => {
    expect(planShares([], 5).size).toBe(0);
    expect(planShares([env("a", 0)], 0).size).toBe(0);
  });
});
