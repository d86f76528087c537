import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';

const STAGE_ROOT = /^stage-([A-Za-z0-9.-]+)-(\d+)-[0-9a-f]{8}$/;
/** Roots made by this process (a process may hold several runners): never stale while it lives. */
const ownRoots = new Set<string>();

/**
 * A runner's own dir under the work dir, named for the host and process that own it, so a later
 * worker can tell a dead one's leftovers (hard links that would keep deleted submissions on disk)
 * from a live worker's, even when several workers share the work dir.
 */
export function newStageRoot(workDir: string, pid = process.pid, host = hostname()): string {
  const root = path.join(workDir, `stage-${safeHost(host)}-${pid}-${randomUUID().slice(0, 8)}`);
  if (pid === process.pid) ownRoots.add(root);
  return root;
}

/**
 * Removes stage roots of this host whose process is gone, and those named for this very pid that
 * this process did not make (a container restarted under the same host name and pid). Other
 * hosts' are left alone: their workers may be alive. Returns the names removed.
 */
export async function removeStaleStageRoots(workDir: string, pid = process.pid, host = hostname()): Promise<string[]> {
  const entries = await readdir(workDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const match = STAGE_ROOT.exec(name);
    if (!match || match[1] !== safeHost(host) || ownRoots.has(path.join(workDir, name))) continue;
    const owner = Number(match[2]);
    if (owner !== pid && isAlive(owner)) continue;
    await rm(path.join(workDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function safeHost(host: string): string {
  return host.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
