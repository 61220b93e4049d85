import type { EnvironmentQueuesView, QueueView } from "@runengine/core";
import { formatInstant } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import { adminPath, page } from "./layout.ts";

function limitForm(environmentId: string, queue: string | undefined, limit: number | null): SafeHtml {
  return html`<form method="post" action="${adminPath}/run-queues/limit" class="inline">
<input type="hidden" name="environmentId" value="${environmentId}">
${queue === undefined ? "" : html`<input type="hidden" name="queue" value="${queue}">`}
<input name="limit" type="number" min="0" value="${limit ?? ""}" placeholder="none" aria-label="concurrency limit">
<button type="submit">Set limit</button></form>`;
}

function queueRows(environmentId: string, queue: QueueView): SafeHtml {
  const action = queue.paused ? "resume" : "pause";
  return html`<tr data-queue="${queue.name}">
<td class="mono">${queue.name}</td>
<td>${queue.queued}</td>
<td>${queue.inFlight}</td>
<td>${limitForm(environmentId, queue.name, queue.limit)}${
    queue.limitOverridden
      ? html` <span class="badge">operator's; declared ${queue.declaredLimit ?? "none"}</span>
<form method="post" action="${adminPath}/run-queues/limit/declared" class="inline">
<input type="hidden" name="environmentId" value="${environmentId}"><input type="hidden" name="queue" value="${queue.name}">
<button type="submit">Use declared</button></form>`
      : ""
  }</td>
<td>${queue.rateLimit ? `${queue.rateLimit.limit} / ${queue.rateLimit.periodMs} ms${queue.rateLimit.perKey ? " per key" : ""}` : "—"}</td>
<td>${queue.paused ? html`<span class="badge bad">paused</span>` : "running"}
<form method="post" action="${adminPath}/run-queues/${action}" class="inline">
<input type="hidden" name="environmentId" value="${environmentId}"><input type="hidden" name="queue" value="${queue.name}">
<button type="submit">${queue.paused ? "Resume" : "Pause"}</button></form></td>
</tr>
${queue.concurrencyKeys.map(
  (key) => html`<tr class="key" data-concurrency-key="${key.key}"><td class="mono">↳ key ${key.key}</td><td>${key.queued}</td><td>${key.inFlight}</td><td>${key.limit ?? "none"} (the queue's, per key)</td><td></td><td></td></tr>`,
)}`;
}

function environmentSection(environment: EnvironmentQueuesView): SafeHtml {
  return html`<section class="environment" data-environment="${environment.name}">
<h2>Environment ${environment.name} <span class="muted mono">${environment.id}</span></h2>
<p>${environment.queued} queued · ${environment.inFlight} in flight · limit ${environment.limit ?? "none"}
${limitForm(environment.id, undefined, environment.limit)}</p>
<table class="queues"><thead><tr><th>Queue / concurrency key</th><th>Queued</th><th>In flight</th><th>Concurrency limit</th><th>Rate limit</th><th>State</th></tr></thead>
<tbody>${environment.queues.length > 0 ? environment.queues.map((queue) => queueRows(environment.id, queue)) : html`<tr><td colspan="6" class="empty">No queues declared yet.</td></tr>`}</tbody></table>
<h3>Dead-lettered runs (${environment.deadLetters.length})</h3>
${
  environment.deadLetters.length > 0
    ? html`<table><thead><tr><th>Run</th><th>Queue</th><th>Attempts</th><th>Dead-lettered at</th><th></th></tr></thead><tbody>${environment.deadLetters.map(
        (letter) => html`<tr><td><a class="mono" href="${adminPath}/runs/${letter.runId}">${letter.runId}</a></td><td>${letter.queue}</td><td>${letter.attempt}</td>
<td>${formatInstant(new Date(letter.deadLetteredAt))}</td>
<td><form method="post" action="${adminPath}/run-queues/redrive" class="inline"><input type="hidden" name="runId" value="${letter.runId}"><button type="submit">Redrive</button></form></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">None.</p>`
}
</section>`;
}

export function queuesPage(environments: EnvironmentQueuesView[]): string {
  const body = html`<p class="muted" data-autorefresh="10">Refreshes every 10 s. Limits apply at once; a blank limit removes it.</p>
${environments.map(environmentSection)}`;
  return page("Run queues", "queues", body);
}
