import type { TaskRunStatus } from "@runengine/database";
import { isFinalRunStatus } from "@runengine/core";
import { html, type SafeHtml } from "./html.ts";

/** "2026-11-25 11:02:03.456" in UTC: the same on every operator's screen. */
export function formatInstant(instant: Date | null | undefined): string {
  if (!instant) return "—";
  return instant.toISOString().replace("T", " ").replace("Z", "");
}

/** 950 ms, 12.3 s, 4 min 5 s, 2 h 3 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`;
}

export function statusBadge(status: TaskRunStatus): SafeHtml {
  const tone = status === "COMPLETED_SUCCESSFULLY" ? "ok" : isFinalRunStatus(status) ? "bad" : "live";
  return html`<span class="badge ${tone}" data-status="${status}">${status}</span>`;
}

/** JSON as it is stored, indented, for a <pre>. */
export function formatJson(value: unknown): string {
  if (value === null || value === undefined) return "—";
  return JSON.stringify(value, null, 2);
}
