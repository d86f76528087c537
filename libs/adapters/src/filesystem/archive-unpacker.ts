import { DomainError, Invalid, TooLarge, unsafePathReason } from '@app/domain';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { ArchiveEntry, StreamLimit, tarEntries, tarTotals, zipEntries, zipTotals } from './archive-entries';
import { fsProblem } from './fs-problems';
import { NameRegistry } from './name-registry';

export interface UnpackLimits {
  /** Bytes one submission may hold in all: plain files and unpacked archives together. */
  maxSubmissionBytes: number;
  /** Entries (files and folders) all archives of one submission may hold. */
  maxArchiveEntries: number;
}

/**
 * What a submission has used so far: its plain files and all its archives share one budget.
 * Sizes are checked as declared (before anything is written) and again as written.
 */
export class UnpackBudget {
  private bytes = 0;
  private entries = 0;

  constructor(
    private readonly limits: UnpackLimits,
    readonly names: NameRegistry,
  ) {}

  countEntry(archiveName: string): void {
    this.entries += 1;
    if (this.entries > this.limits.maxArchiveEntries) throw this.tooManyEntries(archiveName);
  }

  /** What may still be added: a first pass over an archive stops as soon as it sees more. */
  remaining(): { entries: number; bytes: number } {
    return { entries: this.limits.maxArchiveEntries - this.entries, bytes: this.left() };
  }

  /** Refuses an archive whose entries declare too much in all, before any of it is written. */
  checkDeclaredTotals(archiveName: string, totals: { entries: number; bytes: number }): void {
    if (this.entries + totals.entries > this.limits.maxArchiveEntries) throw this.tooManyEntries(archiveName);
    if (totals.bytes > this.left()) {
      throw this.tooLarge(`archive "${archiveName}" declares at least ${size(totals.bytes)} of content`);
    }
  }

  /** Before a file is written: its declared size must fit what is left. */
  checkDeclared(label: string, byteCount: number): void {
    if (byteCount > this.left()) throw this.tooLarge(`${label} declares ${size(byteCount)}`);
  }

  /**
   * What a tar may inflate to in all, headers and padding included: the content still allowed,
   * plus 4 KB per entry still allowed (a header, a pax long name, padding) and 64 KB to spare.
   * Every byte taken from the stream counts, so data the reader skips is bounded too.
   */
  tarStreamLimit(archiveName: string): StreamLimit {
    const { entries, bytes } = this.remaining();
    const limit = Math.max(bytes, 0) + Math.max(entries, 0) * 4096 + 64 * 1024;
    return { bytes: limit, refuse: () => this.tooLarge(`archive "${archiveName}" inflates to more than ${size(limit)}, headers included`) };
  }

  countBytes(label: string, byteCount: number): void {
    if (byteCount > this.left()) throw this.tooLarge(`${label} (${size(this.bytes + byteCount)} so far)`);
    this.bytes += byteCount;
  }

  private left(): number {
    return this.limits.maxSubmissionBytes - this.bytes;
  }

  private tooLarge(what: string): TooLarge {
    return new TooLarge(
      `${what}: over the ${size(this.limits.maxSubmissionBytes)} limit per submission (plain files and unpacked archives together, MAX_SUBMISSION_MB)`,
    );
  }

  private tooManyEntries(archiveName: string): Invalid {
    return new Invalid([`archive "${archiveName}": archives may hold at most ${this.limits.maxArchiveEntries} files and folders in all`]);
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
 * folders). Rejects links, special files, names that leave the folder or clash with another, and
 * entries that would overwrite something; a rejection can leave a partial result, which the
 * caller removes.
 */
export async function unpackArchive(
  archivePath: string,
  archiveName: string,
  targetDir: string,
  budget: UnpackBudget,
): Promise<void> {
  const format = archiveFormat(archiveName);
  if (!format) throw new Error(`"${archiveName}" is not an archive`);
  try {
    // First the sizes the archive declares (the zip's central directory, the tar's headers), so
    // that a bomb is refused before a byte of it reaches the disk; then the real bytes are counted.
    const streamLimit = budget.tarStreamLimit(archiveName);
    const totals = format === 'zip' ? await zipTotals(archivePath, budget.remaining()) : await tarTotals(archivePath, budget.remaining(), streamLimit);
    budget.checkDeclaredTotals(archiveName, totals);
    const entries = format === 'zip' ? zipEntries(archivePath) : tarEntries(archivePath, streamLimit);
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
  budget.names.add(relative, entry.kind, label);

  if (entry.kind === 'directory') {
    await fsIsInvalid(label, () => mkdir(target, { recursive: true }));
  } else {
    budget.checkDeclared(label, entry.declaredSize);
    await fsIsInvalid(label, () => mkdir(path.dirname(target), { recursive: true }));
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
  const file = await fsIsInvalid(label, () => open(target, 'wx'));
  try {
    // One chunk at a time: the next is read (and inflated) only once this one is on disk.
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

/** A name the file system refuses is the archive's fault: a 400 naming the entry, not a 500. */
async function fsIsInvalid<T>(label: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    const problem = fsProblem(error);
    if (problem) throw new Invalid([`${label} ${problem}`]);
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

/** "2048 MB", or "600 bytes" for the small limits of tests and tight setups. */
function size(bytes: number): string {
  if (bytes >= 2 ** 20) return `${Math.round((bytes / 2 ** 20) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${bytes} bytes`;
}
