import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import type { TestDatabase } from "@runengine/testing";

/** Linux reports process times in clock ticks; 100 per second on every x86-64 kernel config we run. */
const TICKS_PER_SECOND = 100;

/** user + system CPU seconds a process has used so far, from /proc (null once it is gone). */
function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after its closing ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/**
 * CPU used by each part of the system over a window: the engine's processes and workers by pid,
 * Postgres by the backends connected to the engine's database (pg_stat_activity), Redis by its
 * own INFO counters (the whole server, so it includes other clients of a shared Redis), and this
 * bench process. On a 2-core machine this says which process the throughput is spent in.
 */
export class CpuMeter {
  private start = new Map<number, number>();
  private pgStart = new Map<number, number>();
  private redisStart = 0;
  private selfStart = process.cpuUsage();

  constructor(
    private readonly processes: Array<{ label: string; pid: number }>,
    private readonly db: TestDatabase,
    private readonly redis: Redis,
  ) {}

  private async pgBackends(): Promise<Map<number, number>> {
    const rows = await this.db.prisma.$queryRawUnsafe<Array<{ pid: number }>>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      const s = procCpuSeconds(pid);
      if (s !== null) out.set(pid, s);
    }
    return out;
  }

  private async redisCpu(): Promise<number> {
    const info = await this.redis.info("cpu");
    const get = (k: string) => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
    return get("used_cpu_user") + get("used_cpu_sys");
  }

  async begin(): Promise<void> {
    this.start = new Map(this.processes.map((p) => [p.pid, procCpuSeconds(p.pid) ?? 0]));
    this.pgStart = await this.pgBackends();
    this.redisStart = await this.redisCpu();
    this.selfStart = process.cpuUsage();
  }

  /** CPU seconds per label over the window, grouped by label (workers with one label add up). */
  async end(): Promise<Array<{ label: string; seconds: number }>> {
    const totals = new Map<string, number>();
    const add = (label: string, s: number) => totals.set(label, (totals.get(label) ?? 0) + s);
    for (const p of this.processes) add(p.label, (procCpuSeconds(p.pid) ?? 0) - (this.start.get(p.pid) ?? 0));
    // Backends opened during the window started at zero; ones closed during it are lost (rare: pools).
    for (const [pid, s] of await this.pgBackends()) add("postgres (engine db backends)", s - (this.pgStart.get(pid) ?? 0));
    add("redis (whole server)", (await this.redisCpu()) - this.redisStart);
    const self = process.cpuUsage(this.selfStart);
    add("bench process", (self.user + self.system) / 1e6);
    return [...totals.entries()].map(([label, seconds]) => ({ label, seconds }));
  }
}
