// Run Engine operators' pages: keeps figures fresh without reloading the page. No dependencies.
"use strict";

const refreshMs = 5000;

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

/** Runs page: the counts per status for the current filter. */
function refreshCounts(container) {
  const tick = async () => {
    try {
      const { counts } = await getJson(container.dataset.refresh);
      for (const span of container.querySelectorAll("[data-count-status]")) {
        span.textContent = String(counts[span.dataset.countStatus] ?? 0);
      }
    } catch (error) {
      console.warn("counts refresh failed", error);
    }
    setTimeout(tick, refreshMs);
  };
  setTimeout(tick, refreshMs);
}

/** Bulk action page: progress until the action is done. */
function refreshProgress(container) {
  const bar = container.querySelector("progress");
  const tick = async () => {
    let done = false;
    try {
      const progress = await getJson(container.dataset.progress);
      const percent = progress.total === 0 ? 100 : Math.floor((progress.processed / progress.total) * 100);
      const fields = { ...progress, percent, completedAt: progress.completedAt ? progress.completedAt.replace("T", " ").replace("Z", "") : "—" };
      for (const element of container.querySelectorAll("[data-field]")) element.textContent = String(fields[element.dataset.field]);
      bar.max = progress.total;
      bar.value = progress.processed;
      done = progress.status === "COMPLETED" || progress.status === "FAILED";
    } catch (error) {
      console.warn("progress refresh failed", error);
    }
    if (!done) setTimeout(tick, 1000);
  };
  tick();
}

/** Pages whose whole content is live (run queues): reload while no form field has focus. */
function reloadPeriodically(element) {
  const seconds = Number(element.dataset.autorefresh);
  setInterval(() => {
    const active = document.activeElement;
    if (!active || !["INPUT", "SELECT", "TEXTAREA"].includes(active.tagName)) location.reload();
  }, seconds * 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const element of document.querySelectorAll("[data-refresh]")) refreshCounts(element);
  for (const element of document.querySelectorAll("[data-progress]")) refreshProgress(element);
  for (const element of document.querySelectorAll("[data-autorefresh]")) reloadPeriodically(element);
});
