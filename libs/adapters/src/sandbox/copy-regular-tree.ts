import { constants, Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir } from 'node:fs/promises';
import * as path from 'node:path';

/** How much of a job's output a scorer is handed. */
export interface CopyLimits {
  maxBytes: number;
  /** Files and folders together. */
  maxEntries: number;
  maxDepth: number;
}

export const PREDICTION_LIMITS: CopyLimits = { maxBytes: 2 ** 30, maxEntries: 10_000, maxDepth: 32 };

const CHUNK = 2 ** 20;

/**
 * Copies the regular files and folders of `from` (a job's output, written by untrusted code) to `to`,
 * which must not exist: files 0444, folders 0555, owned by the caller. Symlinks, fifos, sockets and
 * devices are left out and named in the result (`predictions.csv: a symbolic link`); nothing is
 * followed, so a link to the reference can never be read as a prediction. Going over a limit throws.
 */
export async function copyRegularTree(from: string, to: string, limits: CopyLimits = PREDICTION_LIMITS): Promise<string[]> {
  const top = await lstat(from);
  if (!top.isDirectory()) throw new Error(`the job's output is ${kindOf(top)}, not a folder`);
  const walk = new TreeCopy(limits);
  await walk.directory(from, to, '', 0);
  return walk.leftOut;
}

class TreeCopy {
  readonly leftOut: string[] = [];
  private bytes = 0;
  private entries = 0;

  constructor(private readonly limits: CopyLimits) {}

  async directory(source: string, target: string, relative: string, depth: number): Promise<void> {
    if (depth > this.limits.maxDepth) throw new Error(`the job's output nests folders deeper than ${this.limits.maxDepth}`);
    await mkdir(target, { mode: 0o755 });
    await chmod(target, 0o755);
    for (const name of (await readdir(source)).sort()) {
      if (++this.entries > this.limits.maxEntries) throw new Error(`the job's output holds more than ${this.limits.maxEntries} files and folders`);
      const entrySource = path.join(source, name);
      const entryTarget = path.join(target, name);
      const entryRelative = relative ? `${relative}/${name}` : name;
      const stats = await lstat(entrySource);
      if (stats.isDirectory()) await this.directory(entrySource, entryTarget, entryRelative, depth + 1);
      else if (stats.isFile()) await this.file(entrySource, entryTarget, entryRelative);
      else this.leftOut.push(`${entryRelative}: ${kindOf(stats)}`);
    }
    await chmod(target, 0o555);
  }

  /** Opened without following a link and checked again on the open file: what is read is what was seen. */
  private async file(source: string, target: string, relative: string): Promise<void> {
    let input;
    try {
      input = await open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (error) {
      this.leftOut.push(`${relative}: could not be opened (${(error as NodeJS.ErrnoException).code})`);
      return;
    }
    try {
      const stats = await input.stat();
      if (!stats.isFile()) {
        this.leftOut.push(`${relative}: ${kindOf(stats)}`);
        return;
      }
      const output = await open(target, 'wx', 0o444);
      try {
        const buffer = Buffer.alloc(CHUNK);
        for (;;) {
          const { bytesRead } = await input.read(buffer, 0, CHUNK, null);
          if (bytesRead === 0) break;
          this.bytes += bytesRead;
          if (this.bytes > this.limits.maxBytes) throw new Error(`the job's output is larger than the ${formatBytes(this.limits.maxBytes)} a scorer is given`);
          await output.write(buffer, 0, bytesRead);
        }
      } finally {
        await output.close();
      }
    } finally {
      await input.close();
    }
  }
}

function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a fifo';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isDirectory()) return 'a folder';
  return 'not a regular file';
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 && bytes % 2 ** 30 === 0 ? `${bytes / 2 ** 30} GiB` : bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${bytes} bytes`;
}
