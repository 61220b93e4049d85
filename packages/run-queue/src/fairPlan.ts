import type { EnvCandidate } from "./commands/shardPeek.ts";

/**
 * Splits `count` dequeues over candidate envs the way serving them one at a time by lowest virtual
 * time would: each unit goes to the env whose score plus what it was already given is lowest
 * (ties: the earlier candidate). So a batch of N from 10 envs with equal scores gives each N/10,
 * and an env far ahead gets nothing until the others catch up. Pure, for unit tests.
 */
export function planShares(candidates: readonly EnvCandidate[], count: number): Map<EnvCandidate, number> {
  const plan = new Map<EnvCandidate, number>();
  if (candidates.length === 0 || count <= 0) return plan;
  const sorted = [...candidates].sort((a, b) => a.score - b.score);
  const given = new Array<number>(sorted.length).fill(0);
  for (let unit = 0; unit < count; unit++) {
    let best = 0;
    let bestLevel = (sorted[0] as EnvCandidate).score + (given[0] as number);
    for (let i = 1; i < sorted.length; i++) {
      const candidate = sorted[i] as EnvCandidate;
      // Sorted by score: once a score alone reaches the best level, no later one can beat it.
      if (candidate.score >= bestLevel) break;
      const level = candidate.score + (given[i] as number);
      if (level < bestLevel) {
        best = i;
        bestLevel = level;
      }
    }
    given[best] = (given[best] as number) + 1;
  }
  sorted.forEach((candidate, i) => {
    if ((given[i] as number) > 0) plan.set(candidate, given[i] as number);
  });
  return plan;
}
