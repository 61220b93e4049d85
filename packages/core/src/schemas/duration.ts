import { z } from "zod";

const unitMs = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/** "500ms", "30s", "10m", "2h", "1d", "1w" → milliseconds; undefined when it is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = durationPattern.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * unitMs[match[2] as keyof typeof unitMs]);
}

/** A span of time: a duration string ("10m") or a number of milliseconds. Parses to milliseconds. */
export const durationSchema = z.union([
  z.number().int().min(0),
  z.string().refine((s) => parseDurationMs(s) !== undefined, "a duration such as 500ms, 30s, 10m, 2h, 1d").transform((s) => parseDurationMs(s)!),
]);

/** A moment: a duration from now ("10m", or milliseconds) or an ISO date. Parses to a Date. */
export const momentSchema = z.union([
  durationSchema.transform((ms) => new Date(Date.now() + ms)),
  z.iso.datetime({ offset: true }).transform((s) => new Date(s)),
]);

/** Milliseconds as the largest whole unit that fits exactly: 5000 → "5s", 90000 → "90s", 1500 → "1500ms". */
export function formatDurationMs(ms: number): string {
  const units = Object.entries(unitMs).sort(([, a], [, b]) => b - a);
  for (const [unit, size] of units) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
