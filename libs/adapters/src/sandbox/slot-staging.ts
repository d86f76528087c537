import { chmod, chown, copyFile, cp, link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * A worker slot's staging dir, `<workDir>/slot-N/`: what bwrap binds comes from here, so the
 * sandbox's /proc/self/mountinfo names `slot-N/submission` and `slot-N/output`, never a
 * submission id, a job id or the artifact store. Owned by the slot's uid, which alone may enter.
 */
export class SlotStaging {
  readonly submission: string;
  readonly output: string;
  readonly etc: string;
  /** A benchmark's public data, for jobs on one. */
  readonly data: string;

  private constructor(readonly dir: string) {
    this.submission = path.join(dir, 'submission');
    this.data = path.join(dir, 'data');
    this.output = path.join(dir, 'output');
    this.etc = path.join(dir, 'etc');
  }

  /** Empties the slot (a worker that died mid-job leaves its files) and lays it out afresh. */
  static async create(workDir: string, slot: number, owner?: { uid: number; gid: number }): Promise<SlotStaging> {
    const staging = new SlotStaging(path.join(workDir, `slot-${slot}`));
    await rm(staging.dir, { recursive: true, force: true });
    await mkdir(staging.dir, { mode: 0o700 });
    await mkdir(staging.etc, { mode: 0o755 });
    await mkdir(staging.output, { mode: 0o700 });
    if (owner) {
      await chown(staging.dir, owner.uid, owner.gid);
      await chown(staging.output, owner.uid, owner.gid);
    }
    return staging;
  }

  /** Hard links of the submission's files (a copy across filesystems); dirs made afresh, readable to the job. */
  async stageSubmission(from: string): Promise<void> {
    await mirror(from, this.submission);
  }

  /** The benchmark's public/ as hard links (copies where the sandbox uid could not read the file). */
  async stageData(from: string): Promise<void> {
    await mirror(from, this.data);
  }

  /**
   * Moves what the job wrote into its real output dir (a copy across filesystems, made by root).
   * Setuid, setgid and sticky bits are dropped first: the job may set them on its own files, and a
   * root-made copy must never become a setuid-root program.
   */
  async collectOutput(to: string): Promise<void> {
    await dropSpecialModes(this.output);
    for (const name of await readdir(this.output)) {
      const source = path.join(this.output, name);
      const target = path.join(to, name);
      await rm(target, { recursive: true, force: true });
      try {
        await rename(source, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        await cp(source, target, { recursive: true, verbatimSymlinks: true, errorOnExist: false });
      }
    }
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * Rebuilds the tree `from` at `to`: dirs made afresh (0755), files hard-linked, symlinks copied as
 * they are (they resolve inside the sandbox, where no host path exists). A file others may not read
 * is copied instead (0444): the sandbox uid must read it wherever the source lives.
 */
export async function mirror(from: string, to: string): Promise<void> {
  const stats = await lstat(from);
  if (!stats.isDirectory()) throw new Error(`${from} is not a directory`);
  await mkdir(to);
  await chmod(to, 0o755);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) await mirror(source, target);
    else if (entry.isSymbolicLink()) await symlink(await readlink(source), target);
    else if (entry.isFile()) await linkOrCopy(source, target);
  }
}

async function linkOrCopy(source: string, target: string): Promise<void> {
  // A link shares the inode, mode and owner: readable to others, or a copy that is.
  if (((await lstat(source)).mode & 0o004) === 0) return copyReadable(source, target);
  try {
    await link(source, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK') throw error;
    await copyReadable(source, target);
  }
}

async function copyReadable(source: string, target: string): Promise<void> {
  await copyFile(source, target);
  await chmod(target, 0o444);
}

/** Files and folders below `dir` keep only their rwx bits; links are not followed. */
async function dropSpecialModes(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    const { mode } = await lstat(entryPath);
    if ((mode & 0o7000) !== 0) await chmod(entryPath, mode & 0o777);
    if (entry.isDirectory()) await dropSpecialModes(entryPath);
  }
}
