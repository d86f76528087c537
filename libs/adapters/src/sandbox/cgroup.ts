import { access, mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Which per-job limits this host allows: a cgroup (v1 or v2, memory + pids, and cpu where the host
 * has that controller) or rlimits only. Without cpu a job runs without a CPU quota (niceness only).
 */
export type CgroupSupport =
  | { version: 1; memoryParent: string; pidsParent: string; cpuParent: string | null }
  | { version: 2; parent: string; cpu: boolean }
  | { version: 'none'; reason: string };

/** The CFS period of a job's CPU quota (the kernel's default): quota = cores x period per period. */
export const CPU_PERIOD_US = 100000;

export const CGROUP_PARENT = 'leadersboard';

/**
 * Finds a cgroup hierarchy with the memory and pids controllers under `mountRoot` (a pure v2 mount,
 * v1 controllers at memory/ and pids/, or a hybrid host's cgroup2 at unified/) and creates our
 * parent group in it.
 */
export async function detectCgroups(mountRoot: string, parentName = CGROUP_PARENT): Promise<CgroupSupport> {
  const reasons: string[] = [];
  if (await exists(path.join(mountRoot, 'cgroup.controllers'))) {
    return (await tryV2(mountRoot, parentName, reasons)) ?? { version: 'none', reason: reasons.join('; ') };
  }
  const memoryRoot = path.join(mountRoot, 'memory');
  const pidsRoot = path.join(mountRoot, 'pids');
  if ((await exists(path.join(memoryRoot, 'memory.limit_in_bytes'))) && (await exists(path.join(pidsRoot, 'cgroup.procs')))) {
    try {
      const memoryParent = path.join(memoryRoot, parentName);
      const pidsParent = path.join(pidsRoot, parentName);
      await mkdir(memoryParent, { recursive: true });
      await mkdir(pidsParent, { recursive: true });
      return { version: 1, memoryParent, pidsParent, cpuParent: await v1CpuParent(mountRoot, parentName) };
    } catch (error) {
      reasons.push(`cgroup v1 under ${mountRoot}: ${(error as Error).message}`);
    }
  } else {
    reasons.push(`no cgroup v1 memory and pids controllers under ${mountRoot}`);
  }
  // Hybrid hosts mount cgroup2 at unified/; it is usable only when it holds the controllers.
  const unified = path.join(mountRoot, 'unified');
  if (await exists(path.join(unified, 'cgroup.controllers'))) {
    const v2 = await tryV2(unified, parentName, reasons);
    if (v2) return v2;
  }
  return { version: 'none', reason: reasons.join('; ') };
}

async function tryV2(root: string, parentName: string, reasons: string[]): Promise<CgroupSupport | undefined> {
  if (!(await exists(path.join(root, 'cgroup.controllers')))) return undefined;
  const enabled = (await readFile(path.join(root, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
  if (!enabled.includes('memory') || !enabled.includes('pids')) {
    reasons.push(`cgroup v2 at ${root} does not delegate memory and pids (cgroup.subtree_control: "${enabled.join(' ').trim()}")`);
    return undefined;
  }
  try {
    const parent = path.join(root, parentName);
    await mkdir(parent, { recursive: true });
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+memory +pids');
    return { version: 2, parent, cpu: await enableV2Cpu(root, parent, enabled) };
  } catch (error) {
    reasons.push(`cgroup v2 at ${root}: ${(error as Error).message}`);
    return undefined;
  }
}

/** v1's cpu controller (cpu/ or cpu,cpuacct/ share one hierarchy): our parent group in it, or null without one. */
async function v1CpuParent(mountRoot: string, parentName: string): Promise<string | null> {
  const cpuRoot = path.join(mountRoot, 'cpu');
  if (!(await exists(path.join(cpuRoot, 'cpu.cfs_quota_us')))) return null;
  const cpuParent = path.join(cpuRoot, parentName);
  return mkdir(cpuParent, { recursive: true }).then(
    () => cpuParent,
    () => null,
  );
}

/** Enables cpu for the jobs' groups when the host has it: delegated to the root's children first if it is not yet. */
async function enableV2Cpu(root: string, parent: string, enabled: string[]): Promise<boolean> {
  const available = (await readFile(path.join(root, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
  if (!available.includes('cpu')) return false;
  try {
    if (!enabled.includes('cpu')) await writeFile(path.join(root, 'cgroup.subtree_control'), '+cpu');
    await writeFile(path.join(parent, 'cgroup.subtree_control'), '+cpu');
    return true;
  } catch {
    return false;
  }
}

/** Whether jobs get a CPU quota under this support: the controllers the self-check line names. */
export function cgroupControllers(support: Exclude<CgroupSupport, { version: 'none' }>): string {
  const cpu = support.version === 1 ? support.cpuParent !== null : support.cpu;
  return cpu ? 'memory, pids, cpu' : 'memory, pids; no cpu controller, so no CPU quota';
}

export interface CgroupCounters {
  /** Processes the kernel's OOM killer killed inside the group. */
  oomKills: number;
  /** Times usage hit the memory limit (v1 memory.failcnt, v2 memory.events max): reclaim may have coped. */
  memoryLimitHits: number;
  /** Forks refused because pids.max was reached. */
  pidsMaxHits: number;
}

/** One job's cgroup (one directory per v1 controller, one in v2). */
export class JobCgroup {
  private constructor(
    private readonly support: Exclude<CgroupSupport, { version: 'none' }>,
    private readonly dirs: string[],
  ) {}

  static async create(
    support: Exclude<CgroupSupport, { version: 'none' }>,
    jobId: string,
    limits: { memoryBytes: number; pidsMax: number; cpus?: number },
  ): Promise<JobCgroup> {
    const withCpu = limits.cpus !== undefined && (support.version === 1 ? support.cpuParent !== null : support.cpu);
    const dirs = support.version === 1
      ? [path.join(support.memoryParent, jobId), path.join(support.pidsParent, jobId)]
      : [path.join(support.parent, jobId)];
    if (support.version === 1 && withCpu) dirs.push(path.join(support.cpuParent!, jobId));
    const group = new JobCgroup(support, dirs);
    // A worker that died mid-job leaves its group behind: empty it and start over.
    await group.remove();
    for (const dir of dirs) await mkdir(dir);
    try {
      if (support.version === 1) {
        const [memory, pids] = dirs;
        await writeFile(path.join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        await writeOptional(path.join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
        await writeFile(path.join(pids, 'pids.max'), String(limits.pidsMax));
        if (withCpu) {
          await writeFile(path.join(dirs[2], 'cpu.cfs_period_us'), String(CPU_PERIOD_US));
          await writeFile(path.join(dirs[2], 'cpu.cfs_quota_us'), String(cpuQuotaUs(limits.cpus!)));
        }
      } else {
        const [dir] = dirs;
        await writeFile(path.join(dir, 'memory.max'), String(limits.memoryBytes));
        await writeOptional(path.join(dir, 'memory.swap.max'), '0');
        await writeFile(path.join(dir, 'memory.oom.group'), '1');
        await writeFile(path.join(dir, 'pids.max'), String(limits.pidsMax));
        if (withCpu) await writeFile(path.join(dir, 'cpu.max'), `${cpuQuotaUs(limits.cpus!)} ${CPU_PERIOD_US}`);
      }
    } catch (error) {
      await group.remove();
      throw error;
    }
    return group;
  }

  /** Writing a pid to each of these moves that process (and its future children) into the group. */
  get procsFiles(): string[] {
    return this.dirs.map((dir) => path.join(dir, 'cgroup.procs'));
  }

  async counters(): Promise<CgroupCounters> {
    if (this.support.version === 1) {
      const [memory, pids] = this.dirs;
      return {
        oomKills: field(await readFile(path.join(memory, 'memory.oom_control'), 'utf8'), 'oom_kill'),
        memoryLimitHits: Number(await readFile(path.join(memory, 'memory.failcnt'), 'utf8')),
        pidsMaxHits: field(await readFile(path.join(pids, 'pids.events'), 'utf8').catch(() => ''), 'max'),
      };
    }
    const [dir] = this.dirs;
    const memoryEvents = await readFile(path.join(dir, 'memory.events'), 'utf8');
    return {
      oomKills: field(memoryEvents, 'oom_kill'),
      memoryLimitHits: field(memoryEvents, 'max'),
      pidsMaxHits: field(await readFile(path.join(dir, 'pids.events'), 'utf8'), 'max'),
    };
  }

  /** SIGKILLs every process in the group until it is empty (a fork bomb refills it for a moment). */
  async killAll(deadlineMs = 5000): Promise<void> {
    const [first] = this.dirs;
    if (this.support.version === 2) await writeOptional(path.join(first, 'cgroup.kill'), '1');
    const until = Date.now() + deadlineMs;
    for (;;) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      if (Date.now() > until) throw new Error(`cgroup ${first} still holds ${pids.length} processes`);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await sleep(20);
    }
  }

  /** Kills what is left and removes the group's directories. */
  async remove(): Promise<void> {
    for (const dir of this.dirs) {
      if (!(await exists(dir))) continue;
      await this.killAll();
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          // The kernel releases a group a moment after its last process is reaped.
          if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) throw error;
          await sleep(20);
        }
      }
    }
  }

  private async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const file of this.procsFiles) {
      const text = await readFile(file, 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (line.trim()) all.add(Number(line));
    }
    return [...all];
  }
}

/** Microseconds of CPU per period for `cpus` cores; the kernel refuses quotas under 1 ms. */
export function cpuQuotaUs(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

/** `name N` lines, as in memory.oom_control, memory.events and pids.events. */
export function field(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

async function writeOptional(file: string, value: string): Promise<void> {
  try {
    await writeFile(file, value);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
