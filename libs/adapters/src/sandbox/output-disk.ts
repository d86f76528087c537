import { execFile } from 'node:child_process';
import { chmod, lstat, mkdir, readdir, readFile, rm, rmdir, statfs, truncate, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const MB = 2 ** 20;
const BLOCK = 4096;
/** The chain's PATH: mkfs and mount live in the sbin folders. */
const TOOLS_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };

/**
 * How /output is held to its cap on this host:
 * - `filesystem`: a root worker mounts, per run, an ext4 image of about the cap's size (loop device)
 *   at the slot's output dir. The host gives the run at most the image (cap x 1.094 + 2 MiB, sparse:
 *   only what is written takes space); the job cannot write past the image's end whatever it does.
 * - `polled`: without root or loop devices (the non-root worker of docker/worker.Dockerfile), the
 *   output dir is a plain host folder whose usage is measured every POLL_MS; each file is bounded by
 *   RLIMIT_FSIZE (the cap + 1 MiB), the whole only by the cap plus what the job writes between two looks.
 * Either way a run over the cap is ended and its outcome is output_limit.
 */
export type OutputDiskMode = { kind: 'filesystem' } | { kind: 'polled'; reason: string };

export const POLL_MS = { filesystem: 100, polled: 100 } as const;

/** One run's output dir under its cap: how full it is, and how it goes away. */
export interface CappedOutput {
  readonly limitMb: number;
  readonly pollMs: number;
  /** True when the output holds more than the cap (or, on its own filesystem, every inode is used). */
  exceeded(): Promise<boolean>;
  /** Unmounts and deletes the image (filesystem mode); call after the output was collected. */
  release(): Promise<void>;
}

/** Whether this host can mount a capped filesystem per run: one trial image, mounted and removed. */
export async function detectOutputDiskMode(scratchDir: string, root: boolean): Promise<OutputDiskMode> {
  if (!root) return { kind: 'polled', reason: 'the worker is not root, so it cannot mount a filesystem per run' };
  const mountPoint = path.join(scratchDir, 'output-trial');
  try {
    await rm(mountPoint, { recursive: true, force: true });
    const trial = await mountCappedOutput(mountPoint, 8, { uid: 0, gid: 0 }, `${mountPoint}.img`);
    await trial.release();
    await rmdir(mountPoint);
    return { kind: 'filesystem' };
  } catch (error) {
    await rm(mountPoint, { recursive: true, force: true }).catch(() => undefined);
    return { kind: 'polled', reason: `no loop-mounted filesystem per run (${oneLine((error as Error).message)})` };
  }
}

/**
 * An ext4 image of the cap at `image` (root's file, outside anything the job sees), mounted at
 * `dir` (made here), its root owned by `owner` (0700). One inode per 4 KiB block: the file count
 * runs out with the bytes, not before.
 */
export async function mountCappedOutput(dir: string, limitMb: number, owner: { uid: number; gid: number }, image: string): Promise<CappedOutput> {
  const capBytes = limitMb * MB;
  const inodes = Math.max(256, Math.ceil(capBytes / BLOCK));
  // Room for the inode tables (cap/16), bitmaps, group descriptors and ext4's own reserve (2%, at most
  // 16 MiB), so the job can always pass the cap and be seen doing it. Measured (mke2fs 1.47), what a job
  // can write before ENOSPC: 8 MiB cap -> 10 MiB, 20 -> 22, 1024 -> 1041.
  const imageBytes = capBytes + inodes * 256 + Math.ceil(capBytes / 32) + 2 * MB;
  await rm(image, { force: true });
  await writeFile(image, '', { mode: 0o600 });
  const run = promisify(execFile);
  let mounted = false;
  try {
    await truncate(image, imageBytes);
    await run(
      'mkfs.ext4',
      ['-q', '-F', '-b', String(BLOCK), '-m', '0', '-N', String(inodes), '-O', '^has_journal,^resize_inode',
        '-E', `lazy_itable_init=1,nodiscard,root_owner=${owner.uid}:${owner.gid}`, image],
      { env: TOOLS_ENV },
    );
    await mkdir(dir, { recursive: true });
    await run('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev,noatime', image, dir], { env: TOOLS_ENV });
    mounted = true;
    await rmdir(path.join(dir, 'lost+found'));
    await chmod(dir, 0o700);
  } catch (error) {
    if (mounted) await unmount(dir).catch(() => undefined);
    await rm(image, { force: true });
    throw error;
  }
  const start = await statfs(dir);
  const baseline = (start.blocks - start.bfree) * start.bsize;
  return {
    limitMb,
    pollMs: POLL_MS.filesystem,
    async exceeded() {
      const now = await statfs(dir);
      return (now.blocks - now.bfree) * now.bsize - baseline > capBytes || now.ffree === 0;
    },
    async release() {
      await unmount(dir);
      await rm(image, { force: true });
    },
  };
}

/** A plain folder measured by walking it (allocated blocks, so sparse and fallocated files count as they take). */
export function pollCappedOutput(dir: string, limitMb: number): CappedOutput {
  const capBytes = limitMb * MB;
  return {
    limitMb,
    pollMs: POLL_MS.polled,
    async exceeded() {
      return (await allocatedBytes(dir, capBytes)) > capBytes;
    },
    async release() {
      // The folder goes with the slot's staging.
    },
  };
}

/** Bytes allocated below `dir`, links not followed; stops counting once over `stopAbove`. */
export async function allocatedBytes(dir: string, stopAbove = Infinity): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0 && total <= stopAbove) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const entryPath = path.join(current, entry.name);
      const stats = await lstat(entryPath).catch(() => undefined);
      if (!stats) continue;
      total += stats.blocks * 512;
      if (stats.isDirectory()) pending.push(entryPath);
    }
  }
  return total;
}

/** Unmounts, retrying a moment while the kernel lets go of the last files; detaches lazily in the end. */
async function unmount(dir: string): Promise<void> {
  const run = promisify(execFile);
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await run('umount', [dir], { env: TOOLS_ENV });
      return;
    } catch {
      await sleep(50);
    }
  }
  await run('umount', ['-l', dir], { env: TOOLS_ENV });
}

/**
 * Unmounts whatever is mounted at or below `dir` (deepest first): a worker killed mid-run leaves its
 * slot's filesystem mounted, and its folder cannot be removed before. Returns the mount points.
 */
export async function unmountBelow(dir: string): Promise<string[]> {
  const prefix = path.resolve(dir);
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  const points = mountinfo
    .split('\n')
    .map((line) => unescapeMountPath(line.split(' ')[4] ?? ''))
    .filter((point) => point === prefix || point.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of points) await unmount(point);
  return points;
}

/** mountinfo writes a space, tab, newline and backslash in a path as \040, \011, \012, \134. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
