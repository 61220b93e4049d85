/**
 * Operators' runs page at scale: 100,000 runs inserted with one SQL statement, then the first page
 * of /admin/runs (list + counts per status, one HTTP request to the real api process), filtered
 * pages and a deep page through the cursor, each timed over repeated requests. See bench/README.md
 * ("Admin pages benchmark"). The last line is one JSON object.
 */
import os from "node:os";
import { Cleanup } from "./lib/cleanup.ts";
import { startBenchEngine } from "./lib/engine.ts";
import { fmtMs, nowMs, round, summarize, type Summary } from "./lib/timing.ts";

const cfg = {
  runs: Number(process.env.BENCH_ADMIN_RUNS ?? 100_000),
  samples: Number(process.env.BENCH_ADMIN_SAMPLES ?? 20),
  warmup: 3,
  targetMs: 300,
};
const cleanup = new Cleanup();
const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  log(`admin bench: ${cfg.runs} runs, ${cfg.samples} samples per page, load average ${os.loadavg().map((n) => n.toFixed(2)).join(" ")}`);
  const { db, engine } = await startBenchEngine(cleanup, { label: "bench_admin", workers: 0, concurrency: 0, logLevel: "warn" });
  const { id: environmentId, organizationId } = await db.prisma.runtimeEnvironment.findFirstOrThrow({ where: { name: "bench" } });

  // Statuses as a busy deployment has them: mostly done, some failed, a few live. Ids sort by time
  // like real ones; one run in a thousand failed with errors, one in fifty is still PENDING.
  const inserted = nowMs();
  await db.prisma.$executeRawUnsafe(
    `INSERT INTO "TaskRun" ("id", "organizationId", "environmentId", "taskIdentifier", "status", "queue", "tags", "payload", "idempotencyKey", "createdAt", "updatedAt")
     SELECT 'run_' || lpad(to_hex(i), 12, '0'), $1, $2, 'task-' || (i % 20),
            (CASE WHEN i % 1000 = 0 THEN 'COMPLETED_WITH_ERRORS' WHEN i % 50 = 0 THEN 'PENDING' ELSE 'COMPLETED_SUCCESSFULLY' END)::"TaskRunStatus",
            'task/task-' || (i % 20), ARRAY['customer-' || (i % 500)], jsonb_build_object('i', i),
            CASE WHEN i % 10 = 0 THEN 'key-' || i END,
            now() - make_interval(secs => ($3 - i) * 0.5), now()
     FROM generate_series(1, $3) AS i`,
    organizationId,
    environmentId,
    cfg.runs,
  );
  await db.prisma.$executeRawUnsafe(`ANALYZE "TaskRun"`);
  log(`inserted ${cfg.runs} runs in ${fmtMs(nowMs() - inserted)}`);

  const headers = { authorization: `Bearer ${engine.adminToken}` };
  const get = async (path: string) => {
    const response = await fetch(`${engine.apiUrl}${path}`, { headers });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
    return body;
  };
  const time = async (path: string): Promise<Summary> => {
    for (let i = 0; i < cfg.warmup; i++) await get(path);
    const samples: number[] = [];
    for (let i = 0; i < cfg.samples; i++) {
      const start = nowMs();
      await get(path);
      samples.push(nowMs() - start);
    }
    return summarize(samples);
  };

  // The cursor of page 100 (5,000 runs deep), read from the pages themselves.
  let deepPath = "/admin/runs";
  for (let page = 0; page < 100; page++) {
    const next = /href="([^"]*cursor=[^"]*)" rel="next"/.exec(await get(deepPath))?.[1];
    if (!next) throw new Error(`no next page after page ${page}`);
    deepPath = next.replaceAll("&amp;", "&");
  }

  const pages: Record<string, string> = {
    firstPage: "/admin/runs",
    byStatus: "/admin/runs?status=COMPLETED_WITH_ERRORS",
    byEnvironmentAndStatus: `/admin/runs?environmentId=${environmentId}&status=PENDING`,
    byTask: "/admin/runs?taskId=task-7",
    byTag: "/admin/runs?tag=customer-42",
    byIdempotencyKey: "/admin/runs?idempotencyKey=key-5000",
    byTimeRange: `/admin/runs?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString().slice(0, 16))}`,
    page100: deepPath,
    countsOnly: "/admin/runs/counts",
  };
  const results: Record<string, Summary> = {};
  for (const [name, path] of Object.entries(pages)) {
    results[name] = await time(path);
    const s = results[name]!;
    log(`${name.padEnd(24)} p50 ${fmtMs(s.p50).padStart(9)}  p95 ${fmtMs(s.p95).padStart(9)}  max ${fmtMs(s.max).padStart(9)}  ${s.p50 < cfg.targetMs ? "under" : "OVER"} the ${cfg.targetMs} ms target`);
  }
  log(`load average ${os.loadavg().map((n) => n.toFixed(2)).join(" ")}`);
  log(JSON.stringify({ bench: "admin", runs: cfg.runs, targetMs: cfg.targetMs, p50Ms: Object.fromEntries(Object.entries(results).map(([name, s]) => [name, round(s.p50, 1)])) }));
}

main()
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup.runAll());
