import type { BulkAction } from "@runengine/database";
import { formatInstant } from "./format.ts";
import { href, html, type SafeHtml } from "./html.ts";
import { adminPath, page } from "./layout.ts";

/** What the progress poller reads: the same figures the page shows. */
export function bulkActionProgress(action: BulkAction) {
  return { id: action.id, type: action.type, status: action.status, total: action.total, processed: action.processed, failed: action.failed, completedAt: action.completedAt };
}

function filterLink(action: BulkAction): SafeHtml {
  const filter = (action.filter ?? {}) as Record<string, string | string[]>;
  return html`<a href="${href(`${adminPath}/runs`, filter)}">the filtered runs</a>`;
}

export function bulkActionPage(action: BulkAction): string {
  const percent = action.total === 0 ? 100 : Math.floor((action.processed / action.total) * 100);
  const body = html`<div class="progress" data-progress="${adminPath}/bulk-actions/${action.id}/progress">
<p><strong class="bulk-status" data-field="status">${action.status}</strong> — ${action.type === "CANCEL" ? "cancel" : "replay"} of ${filterLink(action)}</p>
<progress max="${action.total}" value="${action.processed}"></progress>
<p><span data-field="processed">${action.processed}</span> of <span data-field="total">${action.total}</span> processed (<span data-field="percent">${percent}</span>%), <span data-field="failed">${action.failed}</span> failed.</p>
<p class="muted">Created ${formatInstant(action.createdAt)} UTC · completed <span data-field="completedAt">${formatInstant(action.completedAt)}</span></p>
</div>`;
  return page(`Bulk action ${action.id}`, "bulk", body);
}

export function bulkActionsPage(actions: BulkAction[]): string {
  const body = html`<p class="muted">Create a bulk action from a filter on the <a href="${adminPath}/runs">runs page</a>.</p>
<table><thead><tr><th>Action</th><th>Type</th><th>Status</th><th>Processed</th><th>Failed</th><th>Created (UTC)</th></tr></thead><tbody>${
    actions.length > 0
      ? actions.map(
          (action) => html`<tr><td><a class="mono" href="${adminPath}/bulk-actions/${action.id}">${action.id}</a></td><td>${action.type}</td><td>${action.status}</td>
<td>${action.processed} / ${action.total}</td><td>${action.failed}</td><td>${formatInstant(action.createdAt)}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="empty">No bulk actions yet.</td></tr>`
  }</tbody></table>`;
  return page("Bulk actions", "bulk", body);
}
