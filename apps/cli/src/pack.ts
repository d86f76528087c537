import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { create } from 'tar';

export interface PackedSubmission {
  archive: string;
  bytes: number;
  files: string[];
  /** Removes the temp folder holding the archive. */
  remove(): Promise<void>;
}

/** Packs the listed files of DIR into a .tar.gz in a temp folder of its own. */
export async function packSubmission(dir: string, files: string[]): Promise<PackedSubmission> {
  const folder = await mkdtemp(path.join(tmpdir(), 'leaderboard-'));
  const archive = path.join(folder, 'submission.tar.gz');
  try {
    // portable: no owner names, uids or device numbers from this machine in the archive.
    await create({ file: archive, gzip: true, cwd: path.resolve(dir), portable: true, noDirRecurse: true }, files);
    return { archive, bytes: (await stat(archive)).size, files, remove: () => rm(folder, { recursive: true, force: true }) };
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
}
