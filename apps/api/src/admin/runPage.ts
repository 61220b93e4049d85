import type { Blocker, Explanation, QueueStats } from "@runengine/run-queue";
import type { RunDetail, RunSummary } from "@runengine/core";
import { formatDuration, formatInstant, formatJson, statusBadge } from "./format.ts";
import { html, type SafeHtml } from "./html.ts";
import { adminPath, page } from "./layout.ts";

function limitText(stats: QueueStats): string {
  return `${stats.inFlight} in flight of ${stats.limit ?? "no"} limit, ${stats.queued} queued`;
}

/** One sentence per limit or setting that holds the run back. */
function blockerText(blocker: Blocker, explanation: Extract<Explanation, { message: unknown }>, limits: RunDetail["limits"]): string {
  const { message } = explanation;
  switch (blocker) {
    case "notYetAvailable":
      return `Delayed: it becomes available at ${formatInstant(new Date(message.availableAt))} UTC.`;
    case "paused":
      return `Its queue "${message.queue}" is paused.`;
    case "environment":
      return `Its environment is at its concurrency limit (${limits ? limitText(limits.environment) : "limit reached"}).`;
    case "queue":
      return `Its queue "${message.queue}" is at its concurrency limit (${limits ? limitText(limits.queue) : "limit reached"}).`;
    case "concurrencyKey":
      return `Its concurrency key "${message.concurrencyKey ?? ""}" of queue "${message.queue}" is at the queue's limit (${limits?.concurrencyKey ? limitText(limits.concurrencyKey) : "limit reached"}).`;
    case "rate":
      return `Its queue's rate limit is used up; the next dequeue is allowed at ${explanation.rateAllowedAt ? formatInstant(new Date(explanation.rateAllowedAt)) : "—"} UTC.`;
  }
}

/** Runs that are not in the run queue at all wait for something else: say what. */
function notQueuedReason(detail: RunDetail): string | undefined {
  const newest = detail.timeline.at(-1)?.snapshot;
  if (newest?.executionStatus === "DELAYED") {
    return `Delayed: it is queued at ${detail.run.delayUntil ? `${formatInstant(detail.run.delayUntil)} UTC` : "the end of its delay"}.`;
  }
  if (detail.run.status === "PENDING_VERSION") return `No deployed worker version declares the task "${detail.run.taskIdentifier}" yet; it is queued when one registers.`;
  if (newest?.executionStatus === "SUSPENDED") return "Suspended: it waits for the waitpoints below, and is queued again when they complete.";
  return undefined;
}

function whyNotRunning(detail: RunDetail): SafeHtml {
  const explanation = detail.queue;
  const elsewhere = explanation ? undefined : notQueuedReason(detail);
  if (elsewhere) return html`<section class="why" id="why"><h2>Why isn't it running?</h2><ul><li class="reason" data-blocker="notQueued">${elsewhere}</li></ul></section>`;
  if (!explanation) return html``;
  if (explanation.state === "unknown") {
    return html`<section class="why" id="why"><h2>Why isn't it running?</h2><p class="reason">The run queue holds no entry for this run: the reconciler puts it back from Postgres.</p></section>`;
  }
  const reasons =
    explanation.state === "queued"
      ? explanation.blockedBy.length > 0
        ? explanation.blockedBy.map((blocker) => html`<li class="reason" data-blocker="${blocker}">${blockerText(blocker, explanation, detail.limits)}</li>`)
        : [html`<li class="reason" data-blocker="none">Nothing blocks it: it is waiting for its turn${explanation.position === null ? "" : ` at position ${explanation.position + 1} of its queue`}.</li>`]
      : explanation.state === "deadLettered"
        ? [html`<li class="reason" data-blocker="deadLettered">It was dead-lettered after ${explanation.message.attempt} attempts; redrive it from the run queues page.</li>`]
        : [html`<li class="reason" data-blocker="${explanation.state}">The queue reports it ${explanation.state}${explanation.consumerId ? ` by ${explanation.consumerId}` : ""}.</li>`];
  return html`<section class="why" id="why"><h2>Why isn't it running?</h2>
<ul>${reasons}</ul>
<p class="muted">Queue position: ${explanation.position === null ? "—" : explanation.position + 1}; attempt ${explanation.message.attempt}; queue "${explanation.message.queue}"${explanation.message.concurrencyKey ? `, key "${explanation.message.concurrencyKey}"` : ""}.</p>
</section>`;
}

function runLink(run: RunSummary): SafeHtml {
  return html`<li><a href="${adminPath}/runs/${run.id}" class="mono">${run.id}</a> ${run.taskIdentifier} ${statusBadge(run.status)}</li>`;
}

function errorBlock(error: unknown): SafeHtml {
  if (error === null || error === undefined) return html`<p class="muted">—</p>`;
  const { name, message, stack } = (typeof error === "object" ? error : {}) as { name?: unknown; message?: unknown; stack?: unknown };
  return html`<div class="error">${typeof name === "string" || typeof message === "string" ? html`<p><strong>${String(name ?? "Error")}</strong>: ${String(message ?? "")}</p>` : ""}
<pre>${typeof stack === "string" ? stack : formatJson(error)}</pre></div>`;
}

export function runPage(detail: RunDetail): string {
  const { run } = detail;
  const facts: [string, SafeHtml | string][] = [
    ["Status", statusBadge(run.status)],
    ["Environment", detail.environmentName],
    ["Task", run.taskIdentifier],
    ["Queue", run.concurrencyKey ? `${run.queue} / ${run.concurrencyKey}` : run.queue],
    ["Priority", String(run.priority)],
    ["Attempts", `${run.attemptNumber}${run.maxAttempts ? ` of ${run.maxAttempts}` : ""}`],
    ["Idempotency key", run.idempotencyKey ?? "—"],
    ["Tags", run.tags.join(", ") || "—"],
    ["Created", formatInstant(run.createdAt)],
    ["Started", formatInstant(run.startedAt)],
    ["Completed", formatInstant(run.completedAt)],
    ["Replay of", run.replayedFromRunId ? html`<a href="${adminPath}/runs/${run.replayedFromRunId}">${run.replayedFromRunId}</a>` : "—"],
    ["Batch", run.batchId ?? "—"],
  ];
  const timeline = detail.timeline.map(
    ({ snapshot, durationMs }, index) => html`<tr class="step">
<td>${index + 1}</td>
<td>${formatInstant(snapshot.createdAt)}</td>
<td class="mono">${snapshot.executionStatus}</td>
<td>${statusBadge(snapshot.runStatus)}</td>
<td class="description">${snapshot.description}</td>
<td>${snapshot.attemptNumber ?? "—"}</td>
<td class="mono">${snapshot.workerId ?? "—"}</td>
<td>${formatDuration(durationMs)}</td>
</tr>`,
  );
  const waitpoints = detail.waitpoints.map(
    ({ waitpoint, batchIndex }) => html`<tr>
<td class="mono">${waitpoint.id}</td><td>${waitpoint.type}${batchIndex === null ? "" : ` #${batchIndex}`}</td><td>${waitpoint.status}</td>
<td>${waitpoint.completedByRunId ? html`<a href="${adminPath}/runs/${waitpoint.completedByRunId}">${waitpoint.completedByRunId}</a>` : formatInstant(waitpoint.completedAfter ?? waitpoint.timeoutAt)}</td>
<td>${formatInstant(waitpoint.completedAt)}</td>
</tr>`,
  );
  const body = html`<p class="mono run-id">${run.id}</p>
<dl class="facts">${facts.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>
<div class="actions">
<form method="post" action="${adminPath}/runs/${run.id}/cancel"><button type="submit" class="danger">Cancel run</button></form>
<form method="post" action="${adminPath}/runs/${run.id}/replay"><button type="submit">Replay run</button></form>
</div>
${whyNotRunning(detail)}
<section><h2>State history</h2>
<table class="timeline"><thead><tr><th>#</th><th>At (UTC)</th><th>Execution status</th><th>Run status</th><th>Description</th><th>Attempt</th><th>Worker</th><th>Time in step</th></tr></thead>
<tbody>${timeline}</tbody></table></section>
<section><h2>Waitpoints blocking it</h2>${
    waitpoints.length > 0
      ? html`<table><thead><tr><th>Waitpoint</th><th>Type</th><th>Status</th><th>Completed by / due</th><th>Completed at</th></tr></thead><tbody>${waitpoints}</tbody></table>`
      : html`<p class="muted">None.</p>`
  }</section>
<section class="grid2">
<div><h2>Parent</h2>${detail.parent ? html`<ul>${runLink(detail.parent)}</ul>` : html`<p class="muted">None.</p>`}</div>
<div><h2>Children</h2>${detail.children.length > 0 ? html`<ul>${detail.children.map(runLink)}</ul>` : html`<p class="muted">None.</p>`}</div>
</section>
<section><h2>Payload</h2><pre>${formatJson(run.payload)}</pre></section>
<section><h2>Output</h2><pre>${formatJson(run.output)}</pre></section>
<section><h2>Error</h2>${errorBlock(run.error)}</section>
<section><h2>Metadata</h2><pre>${formatJson(run.metadata)}</pre></section>`;
  return page(`Run ${run.taskIdentifier}`, "runs", body);
}
