import type { Redis } from "ioredis";

interface Snapshot {
  byCommand: Map<string, { calls: number; usec: number }>;
  cpuSec: number;
  calls: number;
  usec: number;
  scriptCalls: number;
  scriptUsec: number;
}

export interface RedisCost {
  /** Redis server CPU (user + sys) per run, in microseconds. */
  cpuUsPerRun: number;
  /** Commands (a script counts once) Redis executed per run. */
  commandsPerRun: number;
  /** Average time inside one script or function call (EVAL, EVALSHA, FCALL), in microseconds. */
  scriptUsPerCall: number;
  /** Share of one core the Redis main thread used over the window. */
  cpuUtil: number;
  /** Per command: calls per run and microseconds per run, largest first. */
  top: Array<{ command: string; callsPerRun: number; usPerRun: number }>;
}

/**
 * Reads Redis's own counters around a measured window, so a scenario can say where the time
 * went on the server side. The Redis is shared: anything else running at the same time is
 * counted too, which the README points out.
 */
export class RedisMeter {
  private start: Snapshot | null = null;
  private startMs = 0;

  constructor(private readonly redis: Redis) {}

  async begin(): Promise<void> {
    this.start = await this.snapshot();
    this.startMs = performance.now();
  }

  async end(runs: number): Promise<RedisCost> {
    const end = await this.snapshot();
    const s = this.start!;
    const seconds = (performance.now() - this.startMs) / 1000;
    const calls = end.calls - s.calls;
    const scriptCalls = end.scriptCalls - s.scriptCalls;
    // Someone ran CONFIG RESETSTAT during the window: the counters say nothing about it.
    if (calls < 0 || scriptCalls < 0) {
      return { cpuUsPerRun: Number.NaN, commandsPerRun: Number.NaN, scriptUsPerCall: Number.NaN, cpuUtil: (end.cpuSec - s.cpuSec) / seconds, top: [] };
    }
    const top = [...end.byCommand]
      .map(([command, e]) => {
        const b = s.byCommand.get(command) ?? { calls: 0, usec: 0 };
        return { command, callsPerRun: (e.calls - b.calls) / runs, usPerRun: (e.usec - b.usec) / runs };
      })
      .filter((c) => c.callsPerRun > 0)
      .sort((a, b) => b.usPerRun - a.usPerRun);
    return {
      top,
      cpuUsPerRun: runs > 0 ? ((end.cpuSec - s.cpuSec) * 1e6) / runs : Number.NaN,
      commandsPerRun: runs > 0 ? calls / runs : Number.NaN,
      scriptUsPerCall: scriptCalls > 0 ? (end.scriptUsec - s.scriptUsec) / scriptCalls : Number.NaN,
      cpuUtil: (end.cpuSec - s.cpuSec) / seconds,
    };
  }

  private async snapshot(): Promise<Snapshot> {
    const [cpu, stats] = await Promise.all([this.redis.info("cpu"), this.redis.info("commandstats")]);
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(cpu)?.[1] ?? 0);
    const byCommand = new Map<string, { calls: number; usec: number }>();
    let calls = 0;
    let usec = 0;
    let scriptCalls = 0;
    let scriptUsec = 0;
    for (const m of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
      const [, cmd, c, u] = m;
      // The meter's own INFO calls are not part of the workload.
      if (cmd === "info") continue;
      byCommand.set(cmd!, { calls: Number(c), usec: Number(u) });
      calls += Number(c);
      usec += Number(u);
      if (cmd === "evalsha" || cmd === "eval" || cmd === "fcall") {
        scriptCalls += Number(c);
        scriptUsec += Number(u);
      }
    }
    return { byCommand, cpuSec: field("used_cpu_user_main_thread") + field("used_cpu_sys_main_thread"), calls, usec, scriptCalls, scriptUsec };
  }
}
