import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { unmountBelow } from './output-disk';
import { isRunning, processStart } from './process-identity';

const STAGE_ROOT = /^stage-[0-9a-f]{16}$/;
const OWNER_FILE = 'owner';
/** Roots made by this process (a process may hold several runners): never stale while it lives. */
const ownRoots = new Set<string>();

/**
 * A runner's own dir under the work dir. Its name is random: the sandbox's /proc/self/mountinfo
 * shows it, so it says nothing of the host or the worker; who owns it is in a file inside.
 */
export function newStageRoot(workDir: string): string {
  const root = path.join(workDir, `stage-${randomBytes(8).toString('hex')}`);
  ownRoots.add(root);
  return root;
}

/**
 * Makes the root (0711: slot uids walk through to their own slot-N) and records its owner: host,
 * pid and the pid's start time, so a later process that reuses the pid is not taken for the owner.
 */
export async function claimStageRoot(root: string, pid = process.pid, host = hostname()): Promise<void> {
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  await writeFile(path.join(root, OWNER_FILE), `${host} ${pid} ${processStart(pid) ?? 0}\n`, { mode: 0o600 });
}

/**
 * Removes what workers killed mid-job left (hard links that would keep deleted submissions on
 * disk): roots owned on this host by a process that is gone, or by this very pid but not made by
 * this process (a container restarted under the same host name and pid). Other hosts' roots are
 * left alone, since their workers may be alive, and so is a root whose owner is not written yet.
 * Returns the names removed.
 */
export async function removeStaleStageRoots(workDir: string, pid = process.pid, host = hostname()): Promise<string[]> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const root = path.join(workDir, name);
    if (!STAGE_ROOT.test(name) || ownRoots.has(root)) continue;
    const owner = (await readFile(path.join(root, OWNER_FILE), 'utf8').catch(() => '')).trim().split(' ');
    // `host pid start`, or `host pid` as workers before the start time wrote it.
    if ((owner.length !== 2 && owner.length !== 3) || owner[0] !== host) continue;
    const ownerPid = Number(owner[1]);
    const start = owner.length === 3 && owner[2] !== '0' ? Number(owner[2]) : undefined;
    if (ownerPid !== pid && isRunning({ pid: ownerPid, start })) continue;
    // A run's output filesystem stays mounted when its worker was killed: unmounted first, or rm fails on it.
    await unmountBelow(root);
    await rm(root, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
