import { randomBytes } from "node:crypto";

/** `<prefix>_<base36 milliseconds><16 hex>`: sorts by creation time, unique like a cuid. */
function newTimeOrderedId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, "0")}${randomBytes(8).toString("hex")}`;
}

/** Run ids sort by creation time, which keeps list pages stable. */
export function newRunId(): string {
  return newTimeOrderedId("run");
}

/** Ids of the rows the hot path inserts by hand-written SQL (Prisma generates the others). */
export function newSnapshotId(): string {
  return newTimeOrderedId("snap");
}

export function newCheckpointId(): string {
  return newTimeOrderedId("cp");
}

export function newWaitpointId(): string {
  return newTimeOrderedId("wp");
}

/** Ids for the `count` edges of one wait: one prefix, then the position, so they sort in order. */
export function newEdgeIds(count: number): string[] {
  const prefix = newTimeOrderedId("edge");
  return Array.from({ length: count }, (_, index) => `${prefix}${index.toString(36).padStart(4, "0")}`);
}
