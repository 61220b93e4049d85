import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { processLogDir } from "@runengine/testing";
import { E2EEngine, waitFor } from "./engineFixture.ts";

/**
 * The operators' pages in a real browser (Debian's chromium driven by playwright-core) against
 * the real processes: sign in, search runs, read a run's timeline, ask why a run is not running,
 * and bulk-cancel 500 runs. Each page is saved to test-artifacts/screenshots/.
 */
const chromiumPath = "/usr/bin/chromium";
const screenshots = join(processLogDir, "..", "screenshots");

let e: E2EEngine;
let browser: Browser;
let page: Page;

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  e = await E2EEngine.start("e2e_admin");
  await e.startWorker("w1", 10);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
  await e?.close();
});

describe("operators' pages in a browser", () => {
  const runs: { completed: string[]; failed?: string; stuck?: string } = { completed: [] };

  test("sign in, then filter the runs page by status", async () => {
    for (let value = 0; value < 3; value++) runs.completed.push((await e.client.trigger("echo", { value }, { tags: ["browser"] })).id);
    runs.failed = (await e.client.trigger("always-fails", {})).id;
    for (const id of [...runs.completed, runs.failed]) await e.client.runs.poll(id, { timeoutMs: 60_000, intervalMs: 200 });

    await page.goto(`${e.engine.apiUrl}/admin/login`);
    await page.fill('input[name="token"]', e.engine.adminToken);
    await Promise.all([page.waitForURL(/\/admin\/runs$/), page.click('button[type="submit"]')]);
    await expect.poll(() => page.locator("tr[data-run-id]").count()).toBe(4);

    await page.check('input[name="status"][value="COMPLETED_SUCCESSFULLY"]');
    await Promise.all([page.waitForURL(/status=COMPLETED_SUCCESSFULLY/), page.click('#run-filter button[type="submit"]')]);
    const shown = await page.locator("tr[data-run-id]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-run-id")));
    expect(shown.sort()).toEqual([...runs.completed].sort());
    expect(await page.locator('[data-count-status="COMPLETED_SUCCESSFULLY"]').textContent()).toBe("3");
    expect(await page.locator('[data-count-status="COMPLETED_WITH_ERRORS"]').textContent()).toBe("1");
    await screenshot("runs");
  });

  test("a run's page shows its timeline, and a failed run its error with the stack", async () => {
    await page.click(`a[href="/admin/runs/${runs.completed[0]}"]`);
    await page.waitForURL(new RegExp(`/admin/runs/${runs.completed[0]}$`));
    const steps = await page.locator("table.timeline tr.step td.description").allTextContents();
    expect(steps[0]).toBe("Run was triggered and queued");
    expect(steps.some((description) => /^Attempt 1 started on worker /.test(description))).toBe(true);
    expect(await page.locator("table.timeline tr.step").last().locator("td").nth(2).textContent()).toBe("FINISHED");
    expect(await page.locator("section", { hasText: "Output" }).locator("pre").textContent()).toContain('"echoed": 0');
    await screenshot("run");

    await page.goto(`${e.engine.apiUrl}/admin/runs/${runs.failed}`);
    expect(await page.locator(".error pre").textContent()).toContain("this task always fails");
  });

  test("a run stuck behind a full queue says which limit holds it", async () => {
    // the probe queue allows 3 at once: the 4th waits
    const probes: string[] = [];
    for (let i = 0; i < 4; i++) probes.push((await e.client.trigger("concurrency-probe", { holdMs: 120_000 })).id);
    await waitFor(async () => (await e.db.prisma.taskRun.count({ where: { id: { in: probes }, status: "EXECUTING" } })) === 3, 60_000, 200);
    runs.stuck = (await e.db.prisma.taskRun.findFirstOrThrow({ where: { id: { in: probes }, status: "PENDING" } })).id;

    await page.goto(`${e.engine.apiUrl}/admin/runs/${runs.stuck}`);
    const reason = page.locator('#why li[data-blocker="queue"]');
    expect(await reason.textContent()).toBe('Its queue "probe" is at its concurrency limit (3 in flight of 3 limit, 1 queued).');
    await screenshot("run-stuck");

    await page.goto(`${e.engine.apiUrl}/admin/run-queues`);
    const probeRow = page.locator('tr[data-queue="probe"]');
    expect(await probeRow.locator("td").nth(1).textContent()).toBe("1");
    expect(await probeRow.locator("td").nth(2).textContent()).toBe("3");
    await screenshot("run-queues");
  });

  test("bulk-cancel 500 filtered runs and watch the progress until done", async () => {
    // no worker polls while these are created, so all 500 stay PENDING
    for (const worker of e.workers) worker.child.kill("SIGTERM");
    await Promise.all(e.workers.map((worker) => worker.exited));
    const batches = await Promise.all(
      [0, 1].map((half) => e.client.batchTrigger("echo", Array.from({ length: 250 }, (_, i) => ({ payload: { value: half * 250 + i }, options: { tags: ["bulk-500"] } })))),
    );
    const ids = batches.flatMap((batch) => batch.runs.map((run) => run.id));
    expect(ids).toHaveLength(500);

    await page.goto(`${e.engine.apiUrl}/admin/runs?tag=bulk-500&status=PENDING`);
    expect(await page.locator("form.bulk span").textContent()).toBe("500 matching runs:");
    await Promise.all([page.waitForURL(/\/admin\/bulk-actions\/[^/]+$/), page.click('form.bulk button[value="CANCEL"]')]);
    await page.locator('.bulk-status:text("COMPLETED")').waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-field="processed"]').textContent()).toBe("500");
    expect(await page.locator('[data-field="failed"]').textContent()).toBe("0");
    await screenshot("bulk-action");

    expect(await e.db.prisma.taskRun.count({ where: { id: { in: ids }, status: "CANCELED" } })).toBe(500);
    const action = await e.db.prisma.bulkAction.findFirstOrThrow({ where: { type: "CANCEL" } });
    const [last] = await e.db.prisma.executionSnapshot.findMany({ where: { runId: ids[123]! }, orderBy: { sequence: "desc" }, take: 1 });
    expect(last?.description).toBe(`Canceled by bulk action ${action.id}`);
  });
});
