import { randomBytes } from "node:crypto";

/** Run ids sort by creation time (base36 milliseconds first), which keeps list pages stable. */
export function newRunId(): string {
  return `run_${Date.now().toString(36).padStart(9, "0")}${randomBytes(8).toString("hex")}`;
}
