import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import Redis from 'ioredis';

/** Where the CPU went during a run: the API process, this (load generating) process, and Redis. */
export interface CpuSnapshot {
  at: number;
  /** CPU seconds used so far */
  api: number;
  bench: number;
  redis: number;
  commands: Map<string, { calls: number; usec: number }>;
}

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

function processCpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}

export async function cpuSnapshot(redis: Redis, apiPid: number | undefined): Promise<CpuSnapshot> {
  const [cpu, stats] = await Promise.all([redis.info('cpu'), redis.info('commandstats')]);
  const number = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(cpu)?.[1] ?? NaN);
  const commands = new Map<string, { calls: number; usec: number }>();
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    commands.set(match[1], { calls: Number(match[2]), usec: Number(match[3]) });
  }
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    api: apiPid === undefined ? NaN : processCpuSeconds(apiPid),
    bench: (own.user + own.system) / 1e6,
    redis: number('used_cpu_user') + number('used_cpu_sys'),
    commands,
  };
}

/** One line: CPU use as % of one core per process, and the Redis commands that took the most time. */
export function cpuLine(before: CpuSnapshot, after: CpuSnapshot): string {
  const seconds = (after.at - before.at) / 1000;
  const share = (a: number, b: number) => (Number.isFinite(b - a) ? `${Math.round((100 * (b - a)) / seconds)}%` : '-');
  const top = [...after.commands]
    .map(([name, now]) => {
      const then = before.commands.get(name) ?? { calls: 0, usec: 0 };
      return { name, calls: now.calls - then.calls, usec: now.usec - then.usec };
    })
    .filter((each) => each.calls > 0)
    .sort((a, b) => b.usec - a.usec)
    .slice(0, 3)
    .map((each) => `${each.name} ${each.calls} calls ${(each.usec / 1e6).toFixed(2)} s (${(each.usec / each.calls).toFixed(0)} us/call)`);
  return (
    `CPU (% of one core): API ${share(before.api, after.api)}, load generator ${share(before.bench, after.bench)}, ` +
    `Redis ${share(before.redis, after.redis)}; busiest Redis commands (whole server): ${top.join(', ') || 'none'}`
  );
}
