import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * A process named for good: a pid alone can be reused after the process is gone, its start time
 * (clock ticks after boot, /proc/PID/stat field 22) with it cannot. Host: the machine's name, so
 * workers in other containers sharing a kernel (and a cgroup tree) judge only their own.
 */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** Undefined where /proc is not readable: then the pid alone is checked. */
  start?: number;
}

export function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces and parentheses) start at field 3.
    const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isSafeInteger(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

export function ownIdentity(): ProcessIdentity {
  return { host: hostname(), pid: process.pid, start: processStart(process.pid) };
}

/** Whether the process `identity` names still runs (on this host; the caller checks the host). */
export function isRunning(identity: Pick<ProcessIdentity, 'pid' | 'start'>): boolean {
  const { pid, start } = identity;
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (start !== undefined) return processStart(pid) === start;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** 8 hex digits of the host name: enough to tell hosts apart in a cgroup name, without naming it. */
export function hostTag(host: string): string {
  return createHash('sha256').update(host).digest('hex').slice(0, 8);
}

/** `@` never appears in a job id (JOB_ID), so the owner part cannot be forged by one. */
const GROUP = /^(.+)@([0-9a-f]{8})-(\d+)-(\d+)$/;

/**
 * A job's cgroup name: `<job id>@<host tag>-<worker pid>-<worker start>`. Jobs never see it: they
 * run in a cgroup namespace of their own, where their group is `/`.
 */
export function ownedGroupName(owner: ProcessIdentity, jobId: string): string {
  return `${jobId}@${hostTag(owner.host)}-${owner.pid}-${owner.start ?? 0}`;
}

/** The owner written in a cgroup name, or undefined for a name this scheme did not make. */
export function parseGroupName(name: string): { hostTag: string; pid: number; start?: number; jobId: string } | undefined {
  const match = GROUP.exec(name);
  if (!match) return undefined;
  const start = Number(match[4]);
  return { hostTag: match[2], pid: Number(match[3]), start: start === 0 ? undefined : start, jobId: match[1] };
}
