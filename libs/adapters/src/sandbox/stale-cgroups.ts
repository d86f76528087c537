import { readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CGROUP_PARENT } from './cgroup';
import { hostTag, isRunning, ownIdentity, parseGroupName, ProcessIdentity } from './process-identity';

/**
 * Our parent group in each hierarchy under `mountRoot`: v1 has one per controller (memory/, pids/,
 * cpu/...), v2 one at the root, a hybrid host one under unified/ too.
 */
async function parentGroups(mountRoot: string, parentName: string): Promise<string[]> {
  const candidates = [path.join(mountRoot, parentName)];
  for (const entry of await readdir(mountRoot, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) candidates.push(path.join(mountRoot, entry.name, parentName));
  }
  const found: string[] = [];
  for (const dir of candidates) if (await readdir(dir).then(() => true, () => false)) found.push(dir);
  return found;
}

/**
 * Removes the job cgroups of workers on this host that are gone (SIGKILLed, OOM-killed, their
 * container restarted): kills what still runs in each (bwrap, the job, anything it started), then
 * removes the group. Groups of live workers, of other hosts and names made by another scheme are
 * left alone. Returns the job groups removed (one name for a job's v1 groups in each controller).
 */
export async function removeStaleCgroups(mountRoot: string, own: ProcessIdentity = ownIdentity(), parentName = CGROUP_PARENT): Promise<string[]> {
  const removed = new Set<string>();
  const ownTag = hostTag(own.host);
  for (const parent of await parentGroups(mountRoot, parentName)) {
    for (const entry of await readdir(parent, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const owner = parseGroupName(entry.name);
      if (!owner || owner.hostTag !== ownTag) continue;
      if (owner.pid === own.pid && owner.start === own.start) continue;
      if (isRunning(owner)) continue;
      await emptyAndRemove(path.join(parent, entry.name));
      removed.add(entry.name);
    }
  }
  return [...removed];
}

/** SIGKILLs every process in the group until it is empty, then removes it. */
async function emptyAndRemove(dir: string, deadlineMs = 5000): Promise<void> {
  // v2 kills the whole group at once where the kernel has cgroup.kill.
  await writeFile(path.join(dir, 'cgroup.kill'), '1').catch(() => undefined);
  const until = Date.now() + deadlineMs;
  for (;;) {
    const pids = (await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
    if (pids.length === 0) break;
    if (Date.now() > until) throw new Error(`cgroup ${dir} of a dead worker still holds ${pids.length} processes`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await sleep(20);
  }
  for (let attempt = 0; ; attempt++) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // The kernel releases a group a moment after its last process is reaped.
      if (code !== 'EBUSY' || attempt >= 50) throw error;
      await sleep(20);
    }
  }
}
