import { statSync } from 'node:fs';
import * as path from 'node:path';

/** Where staging goes when the configured work dir sits in a folder the sandbox uids may not enter. */
export const FALLBACK_WORK_DIR = '/var/lib/leadersboard/run';

export interface ClosedFolder {
  /** The first folder on the way that other users may not enter. */
  folder: string;
  mode: number;
}

/**
 * The first existing folder on the way to `target` (itself included) that a uid other than its
 * owner and group may not pass through (no o+x). bwrap runs as the slot's uid and resolves every
 * bind source as that uid, so each folder above the staging root must let others through.
 * Folders not made yet are left out: the worker makes them itself, 0711.
 */
export function closedFolderOnTheWay(target: string): ClosedFolder | undefined {
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let folder: string = path.sep;
  for (let i = 0; i <= parts.length; i++) {
    if (i > 0) folder = path.join(folder, parts[i - 1]);
    let mode: number;
    try {
      mode = statSync(folder).mode;
    } catch {
      return undefined;
    }
    if ((mode & 0o001) === 0) return { folder, mode: mode & 0o7777 };
  }
  return undefined;
}

/** A layout the sandbox cannot work with; its message already says the fix. */
export class SandboxLayoutError extends Error {}

/** The one line a person can act on when the sandbox uid cannot reach `what` at `target`. */
export function closedFolderMessage(what: string, target: string, closed: ClosedFolder, fix: string): string {
  const mode = closed.mode.toString(8).padStart(4, '0');
  return `the sandbox's uids cannot reach ${what} ${target}: ${closed.folder} (mode ${mode}) lacks execute (search) permission for other users; ${fix}`;
}

/**
 * The work dir staging really goes to: the configured one, or FALLBACK_WORK_DIR when a folder
 * above the configured one is closed to other users (SHARED_DIR in a `mktemp -d` folder, under
 * /root) and the fallback is open. `note` says why for the worker's start line; `closed` is set
 * when neither can work.
 */
export function sandboxWorkDir(configured: string, fallback = FALLBACK_WORK_DIR): { dir: string; note?: string; closed?: string } {
  const closed = closedFolderOnTheWay(configured);
  if (!closed) return { dir: configured };
  const fallbackClosed = closedFolderOnTheWay(fallback);
  const why = closedFolderMessage('the work dir', configured, closed, `chmod o+x ${closed.folder}, or set WORKER_WORK_DIR to a folder other users may pass through`);
  if (fallbackClosed) return { dir: configured, closed: why };
  return { dir: fallback, note: `staging under ${fallback}: ${closed.folder} (mode ${closed.mode.toString(8).padStart(4, '0')}) is closed to the sandbox's uids` };
}
