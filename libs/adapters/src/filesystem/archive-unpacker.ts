import { DomainError, Invalid, TooLarge, unsafePathReason } from '@app/domain';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveEntry, tarEntries, zipEntries } from './archive-entries';

export interface UnpackLimits {
  /** Bytes all archives of one submission may unpack to, counted as written. */
  maxUnpackedBytes: number;
  /** Entries (files and folders) all archives of one submission may hold. */
  maxArchiveEntries: number;
}

/** What a submission's archives have used so far: all its archives share one budget. */
export class UnpackBudget {
  private bytes = 0;
  private entries = 0;

  constructor(private readonly limits: UnpackLimits) {}

  countEntry(archiveName: string): void {
    this.entries += 1;
    if (this.entries > this.limits.maxArchiveEntries) {
      throw new Invalid([
        `archive "${archiveName}": archives may hold at most ${this.limits.maxArchiveEntries} files and folders in all`,
      ]);
    }
  }

  countBytes(label: string, byteCount: number): void {
    this.bytes += byteCount;
    if (this.bytes > this.limits.maxUnpackedBytes) {
      throw new TooLarge(`${label} unpacks past the ${megabytes(this.limits.maxUnpackedBytes)} MB limit for unpacked archives`);
    }
  }
}

type ArchiveFormat = 'zip' | 'tar.gz';

export function archiveFormat(fileName: string): ArchiveFormat | undefined {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz')) return 'tar.gz';
  return undefined;
}

/**
 * Unpacks an archive into `targetDir` (an existing folder that holds only regular files and
 * folders). Rejects links, special files, names that leave the folder and entries that would
 * overwrite something; a rejection can leave a partial result, which the caller removes.
 */
export async function unpackArchive(
  archivePath: string,
  archiveName: string,
  targetDir: string,
  budget: UnpackBudget,
): Promise<void> {
  const format = archiveFormat(archiveName);
  if (!format) throw new Error(`"${archiveName}" is not an archive`);
  const entries = format === 'zip' ? zipEntries(archivePath) : tarEntries(archivePath);
  try {
    for await (const entry of entries) {
      await extract(entry, archiveName, path.resolve(targetDir), budget);
    }
  } catch (error) {
    throw explain(error, archiveName, format);
  }
}

async function extract(entry: ArchiveEntry, archiveName: string, targetDir: string, budget: UnpackBudget): Promise<void> {
  const label = `archive "${archiveName}": entry "${printable(entry.name)}"`;
  budget.countEntry(archiveName);
  if (entry.problem) throw new Invalid([`${label} ${entry.problem}; archives may only hold plain files and folders`]);

  const relative = relativeName(entry);
  if (relative === '') return;
  const reason = unsafePathReason(relative);
  if (reason) throw new Invalid([`${label} ${reason}`]);
  const target = path.resolve(targetDir, relative);
  if (!target.startsWith(targetDir + path.sep)) throw new Invalid([`${label} escapes the submission folder`]);

  if (entry.kind === 'directory') {
    await clashIsInvalid(label, () => mkdir(target, { recursive: true }));
  } else {
    await clashIsInvalid(label, () => mkdir(path.dirname(target), { recursive: true }));
    await writeNewFile(target, await entry.content(), label, budget);
  }
}

/** "./src/a.py" is "src/a.py" and a folder's trailing "/" goes; "" is the archive's own root. */
function relativeName(entry: ArchiveEntry): string {
  let name = entry.name;
  while (name.startsWith('./')) name = name.slice(2);
  if (entry.kind === 'directory') name = name === '.' ? '' : name.replace(/\/$/, '');
  return name;
}

async function writeNewFile(target: string, chunks: AsyncIterable<Buffer>, label: string, budget: UnpackBudget): Promise<void> {
  // "wx" fails when anything already has the name, so an entry can never overwrite a file.
  const file = await clashIsInvalid(label, () => open(target, 'wx'));
  try {
    for await (const chunk of chunks) {
      budget.countBytes(label, chunk.length);
      for (let written = 0; written < chunk.length; ) {
        written += (await file.write(chunk, written)).bytesWritten;
      }
    }
  } finally {
    await file.close();
  }
}

async function clashIsInvalid<T>(label: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR') {
      throw new Invalid([`${label} is a duplicate path: a file or folder of that name is already in the submission`]);
    }
    throw error;
  }
}

/** Our own rejections and disk errors pass through; anything the archive readers raise means a broken archive. */
function explain(error: unknown, archiveName: string, format: ArchiveFormat): unknown {
  if (error instanceof DomainError) return error;
  if (error instanceof Error && 'syscall' in error) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new Invalid([`archive "${archiveName}" is damaged or not a ${format} file (${detail})`]);
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function megabytes(bytes: number): string {
  return String(Math.round((bytes / 2 ** 20) * 10) / 10);
}
