import type { TaskRunStatus } from "@runengine/database";
import { runFilterToJson, taskRunStatuses, type RunFilter, type RunSummary } from "@runengine/core";
import { formatInstant, statusBadge } from "./format.ts";
import { href, html } from "./html.ts";
import { adminPath, page } from "./layout.ts";

export interface RunsPageData {
  filter: RunFilter;
  runs: RunSummary[];
  nextCursor: string | null;
  counts: Partial<Record<TaskRunStatus, number>>;
  environments: { id: string; name: string }[];
}

/** datetime-local inputs hold no zone; the page speaks UTC throughout. */
function localInput(instant: Date | undefined): string {
  return instant ? instant.toISOString().slice(0, 16) : "";
}

export function runsPage({ filter, runs, nextCursor, counts, environments }: RunsPageData): string {
  const query = runFilterToJson(filter);
  const selected = new Set(filter.status ?? []);
  const environmentName = new Map(environments.map((environment) => [environment.id, environment.name]));
  const total = Object.values(counts).reduce((sum, count) => sum + (count ?? 0), 0);
  const matching = filter.status?.length ? filter.status.reduce((sum, status) => sum + (counts[status] ?? 0), 0) : total;

  const filterForm = html`<form method="get" action="${adminPath}/runs" class="filters" id="run-filter">
<label>Run id <input name="runId" value="${filter.runId ?? ""}"></label>
<label>Environment <select name="environmentId"><option value="">all</option>${environments.map(
    (environment) => html`<option value="${environment.id}" ${environment.id === filter.environmentId ? html`selected` : ""}>${environment.name}</option>`,
  )}</select></label>
<label>Task <input name="taskId" value="${filter.taskId ?? ""}"></label>
<label>Tag <input name="tag" value="${filter.tag ?? ""}"></label>
<label>Idempotency key <input name="idempotencyKey" value="${filter.idempotencyKey ?? ""}"></label>
<label>Created from (UTC) <input type="datetime-local" name="from" value="${localInput(filter.from)}"></label>
<label>to (UTC) <input type="datetime-local" name="to" value="${localInput(filter.to)}"></label>
<fieldset class="statuses"><legend>Status</legend>${taskRunStatuses.map(
    (status) => html`<label><input type="checkbox" name="status" value="${status}" ${selected.has(status) ? html`checked` : ""}>${status}</label>`,
  )}</fieldset>
<button type="submit">Search</button> <a href="${adminPath}/runs">Clear</a>
</form>`;

  const countsBar = html`<div class="counts" data-refresh="${href(`${adminPath}/runs/counts`, query)}">${taskRunStatuses.map(
    (status) => html`<a class="count ${selected.has(status) ? "active" : ""}" href="${href(`${adminPath}/runs`, { ...query, status })}">${statusBadge(status)} <span data-count-status="${status}">${counts[status] ?? 0}</span></a>`,
  )}</div>`;

  const bulkForm = html`<form method="post" action="${adminPath}/bulk-actions" class="bulk">
${Object.entries(query).flatMap(([name, value]) => (typeof value === "string" ? [value] : value).map((item) => html`<input type="hidden" name="${name}" value="${item}">`))}
<span>${matching} matching runs:</span>
<button type="submit" name="type" value="CANCEL" class="danger">Cancel all matching</button>
<button type="submit" name="type" value="REPLAY">Replay all matching</button>
</form>`;

  const rows = runs.map(
    (run) => html`<tr data-run-id="${run.id}">
<td><a href="${adminPath}/runs/${run.id}" class="mono">${run.id}</a></td>
<td>${environmentName.get(run.environmentId) ?? run.environmentId}</td>
<td>${run.taskIdentifier}</td>
<td>${statusBadge(run.status)}</td>
<td>${run.queue}${run.concurrencyKey ? html` <span class="muted">/ ${run.concurrencyKey}</span>` : ""}</td>
<td>${run.tags.map((tag) => html`<span class="tag">${tag}</span>`)}</td>
<td>${run.attemptNumber}</td>
<td>${formatInstant(run.createdAt)}</td>
<td>${formatInstant(run.completedAt)}</td>
</tr>`,
  );

  const body = html`${filterForm}${countsBar}${bulkForm}
<table class="runs">
<thead><tr><th>Run</th><th>Environment</th><th>Task</th><th>Status</th><th>Queue / key</th><th>Tags</th><th>Attempts</th><th>Created (UTC)</th><th>Completed</th></tr></thead>
<tbody>${rows.length > 0 ? rows : html`<tr><td colspan="9" class="empty">No runs match.</td></tr>`}</tbody>
</table>
<p class="pager">${nextCursor ? html`<a href="${href(`${adminPath}/runs`, { ...query, cursor: nextCursor })}" rel="next">Older runs →</a>` : html`<span class="muted">End of the list.</span>`}</p>`;
  return page("Runs", "runs", body);
}
