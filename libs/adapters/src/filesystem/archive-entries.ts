import { createReadStream } from 'node:fs';
import { Parser, ReadEntry } from 'tar';
import * as yauzl from 'yauzl';

/** One entry of an uploaded archive, read lazily: the next entry comes once this one is handled. */
export interface ArchiveEntry {
  /** The name exactly as the archive stores it; nothing is checked or stripped yet. */
  name: string;
  kind: 'file' | 'directory';
  /** Why the entry can never be unpacked (a link, a device...), as words that follow its name. */
  problem?: string;
  /** The uncompressed bytes of a file entry. */
  content(): Promise<AsyncIterable<Buffer>>;
}

const FILE_TYPE_MASK = 0o170000;
const SYMBOLIC_LINK = 0o120000;
const DIRECTORY = 0o040000;
const REGULAR_FILE = 0o100000;

export async function* zipEntries(archivePath: string): AsyncGenerator<ArchiveEntry> {
  // decodeStrings: false because yauzl would otherwise fail on "../" names with its own terse
  // message; the unpacker rejects them itself, naming the archive and the entry.
  const zip = await yauzl.openPromise(archivePath, { lazyEntries: true, autoClose: false, decodeStrings: false });
  try {
    for await (const entry of zip.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const fileType = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
      const kind = name.endsWith('/') || fileType === DIRECTORY ? 'directory' : 'file';
      yield { name, kind, problem: zipProblem(entry, fileType), content: () => zip.openReadStreamPromise(entry) };
    }
  } finally {
    zip.close();
  }
}

function zipProblem(entry: yauzl.Entry, fileType: number): string | undefined {
  if (fileType === SYMBOLIC_LINK) return 'is a symbolic link';
  if (fileType !== 0 && fileType !== DIRECTORY && fileType !== REGULAR_FILE) return 'is a device, socket or fifo';
  if (entry.isEncrypted()) return 'is encrypted';
  return undefined;
}

const TAR_KINDS: Record<string, ArchiveEntry['kind']> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
};
const TAR_PROBLEMS: Record<string, string> = {
  SymbolicLink: 'is a symbolic link',
  Link: 'is a hard link',
  CharacterDevice: 'is a device',
  BlockDevice: 'is a device',
  FIFO: 'is a fifo',
};

/** Entries of a .tar or .tar.gz (node-tar sniffs the compression), streamed, never unpacked by node-tar. */
export async function* tarEntries(archivePath: string): AsyncGenerator<ArchiveEntry> {
  // No ratio rule: the unpacker counts the bytes it writes, which is the limit that matters.
  const parser = new Parser({ strict: true, maxDecompressionRatio: Infinity });
  // Small reads bound how much one gzip chunk can inflate into memory ahead of the writer.
  const source = createReadStream(archivePath, { highWaterMark: 16 * 1024 });
  const pending: ReadEntry[] = [];
  let ended = false;
  let failure: unknown;
  let wake = (): void => undefined;
  let reject: (error: unknown) => void = () => undefined;
  // Rejects when the archive turns out broken, also while a file's content is being read.
  const failed = new Promise<never>((_, rejectFailed) => (reject = rejectFailed));
  failed.catch(() => undefined);
  const fail = (error: unknown): void => {
    failure ??= error;
    reject(error);
  };

  parser.on('entry', (entry: ReadEntry) => {
    pending.push(entry);
    wake();
  });
  // Entries of a type node-tar does not know; they are reported, not silently skipped.
  parser.on('ignoredEntry', (entry: ReadEntry) => {
    pending.push(entry);
    wake();
  });
  parser.on('end', () => {
    ended = true;
    wake();
  });
  parser.on('error', fail);
  source.on('error', fail);
  source.pipe(parser as unknown as NodeJS.WritableStream);
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const entry = pending.shift();
      if (entry) {
        yield tarEntry(entry, failed);
      } else if (ended) {
        return;
      } else {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), failed]);
      }
    }
  } finally {
    source.destroy();
  }
}

function tarEntry(entry: ReadEntry, failed: Promise<never>): ArchiveEntry {
  const kind = TAR_KINDS[entry.type];
  // Only a file's content is read; anything else is drained so the parser moves on.
  if (kind !== 'file') entry.resume();
  const problem = kind ? undefined : (TAR_PROBLEMS[entry.type] ?? `has the tar type ${entry.type}`);
  return { name: entry.path, kind: kind ?? 'file', problem, content: async () => untilFailure(entry, failed) };
}

/** The entry's chunks, ending with the archive's error if it breaks mid-entry (or the read would wait forever). */
async function* untilFailure(entry: ReadEntry, failed: Promise<never>): AsyncGenerator<Buffer> {
  const chunks = entry[Symbol.asyncIterator]();
  for (;;) {
    const step = await Promise.race([chunks.next(), failed]);
    if (step.done) return;
    yield step.value;
  }
}
