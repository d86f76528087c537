import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as yauzl from 'yauzl';
import { ArchiveEntry } from './archive-entry';
import { readTarEntries, StreamLimit } from './tar-reader';

export type { ArchiveEntry } from './archive-entry';
export type { StreamLimit } from './tar-reader';

const FILE_TYPE_MASK = 0o170000;
const SYMBOLIC_LINK = 0o120000;
const DIRECTORY = 0o040000;
const REGULAR_FILE = 0o100000;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Entry count and declared bytes of a zip, from its central directory alone (nothing is
 * inflated); reading stops as soon as either total passes its bound.
 */
export async function zipTotals(archivePath: string, stopAbove: { entries: number; bytes: number }): Promise<{ entries: number; bytes: number }> {
  const zip = await yauzl.openPromise(archivePath, { lazyEntries: true, autoClose: false, decodeStrings: false });
  try {
    const totals = { entries: 0, bytes: 0 };
    for await (const entry of zip.eachEntry()) {
      totals.entries += 1;
      totals.bytes += entry.uncompressedSize;
      if (totals.entries > stopAbove.entries || totals.bytes > stopAbove.bytes) break;
    }
    return totals;
  } finally {
    zip.close();
  }
}

/**
 * Entry count and declared bytes of a tar, from its headers alone: the content is inflated but
 * never written, and reading stops as soon as either total passes its bound, or at the first
 * entry with a problem (extraction refuses it there, and its data is not worth inflating).
 */
export async function tarTotals(
  archivePath: string,
  stopAbove: { entries: number; bytes: number },
  limit: StreamLimit,
): Promise<{ entries: number; bytes: number }> {
  const totals = { entries: 0, bytes: 0 };
  for await (const entry of tarEntries(archivePath, limit)) {
    totals.entries += 1;
    totals.bytes += entry.declaredSize;
    if (entry.problem || totals.entries > stopAbove.entries || totals.bytes > stopAbove.bytes) break;
  }
  return totals;
}

export async function* zipEntries(archivePath: string): AsyncGenerator<ArchiveEntry> {
  // decodeStrings: false because yauzl would otherwise fail on "../" names with its own terse
  // message; the unpacker rejects them itself, naming the archive and the entry.
  // yauzl checks that each entry inflates to exactly its declared size (validateEntrySizes).
  const zip = await yauzl.openPromise(archivePath, { lazyEntries: true, autoClose: false, decodeStrings: false });
  try {
    for await (const entry of zip.eachEntry()) {
      const utf8Flag = (entry.generalPurposeBitFlag & 0x800) !== 0;
      const name = utf8Flag ? decodeName(entry.fileNameRaw) : yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      const fileType = (entry.externalFileAttributes >>> 16) & FILE_TYPE_MASK;
      const kind = name.endsWith('/') || fileType === DIRECTORY ? 'directory' : 'file';
      const problem = utf8Flag && name === INVALID_NAME ? 'has a name that is not valid UTF-8' : zipProblem(entry, fileType);
      yield { name, kind, problem, declaredSize: entry.uncompressedSize, content: () => entryContent(zip, entry) };
    }
  } finally {
    zip.close();
  }
}

/**
 * An entry's inflated bytes. yauzl's size check can still fail after the unpacker stopped reading
 * (the budget ran out first, say), and an 'error' with no listener would crash the API process:
 * the sink keeps it; while the unpacker reads, its iterator sees the error as before.
 */
async function entryContent(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  const stream = await zip.openReadStreamPromise(entry);
  stream.on('error', () => undefined);
  return stream;
}

const INVALID_NAME = '\u{FFFD}';

/** A name flagged as UTF-8 that is not: reported as a problem instead of silently replaced. */
function decodeName(raw: Buffer): string {
  try {
    return UTF8.decode(raw);
  } catch {
    return INVALID_NAME;
  }
}

function zipProblem(entry: yauzl.Entry, fileType: number): string | undefined {
  if (fileType === SYMBOLIC_LINK) return 'is a symbolic link';
  if (fileType !== 0 && fileType !== DIRECTORY && fileType !== REGULAR_FILE) return 'is a device, socket or fifo';
  if (entry.isEncrypted()) return 'is encrypted';
  return undefined;
}

/**
 * Entries of a .tar.gz (or a plain tar), streamed with backpressure: the archive is read and
 * inflated only as fast as the unpacker writes, so memory stays bounded whatever the ratio.
 */
export async function* tarEntries(archivePath: string, limit: StreamLimit): AsyncGenerator<ArchiveEntry> {
  const source = createReadStream(archivePath, { highWaterMark: 64 * 1024 });
  const stream = (await isGzip(archivePath)) ? source.pipe(createGunzip()) : source;
  // pipe() does not forward errors; a read error must end the iteration too.
  source.on('error', (error) => stream.destroy(error));
  try {
    yield* readTarEntries(stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, limit);
  } finally {
    source.destroy();
    stream.destroy();
  }
}

async function isGzip(archivePath: string): Promise<boolean> {
  const file = await open(archivePath, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await file.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await file.close();
  }
}
