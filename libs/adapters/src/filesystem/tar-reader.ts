import type { ArchiveEntry } from './archive-entry';

/**
 * A pull-based tar reader (ustar, pax and GNU long names). It reads a block only when the
 * consumer asks for it, so a tar bomb inflates no faster than its entries are written, and every
 * entry's size is known from its header before any of its content is read.
 */
const BLOCK = 512;
/** Pax headers and GNU long names are read into memory, so they are capped. */
const MAX_META_BYTES = 64 * 1024;
/** Metadata headers before one entry: a pax global, a pax or L, a K is all real tars need. */
const MAX_META_HEADERS = 3;
const CONTENT_CHUNK = 64 * 1024;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

const FILE_TYPES = new Set(['0', '\0', '7']);
const PROBLEMS: Record<string, string> = {
  '1': 'is a hard link',
  '2': 'is a symbolic link',
  '3': 'is a device',
  '4': 'is a device',
  '6': 'is a fifo',
};

/** Bytes the reader may take from the inflated stream (headers, padding, skipped data included). */
export interface StreamLimit {
  bytes: number;
  refuse(): Error;
}

export async function* readTarEntries(chunks: AsyncIterator<Buffer>, limit: StreamLimit): AsyncGenerator<ArchiveEntry> {
  const source = new ByteSource(chunks, limit);
  let pax: PaxKeys = {};
  let longName: Buffer | undefined;
  let metaHeaders = 0;
  for (;;) {
    const header = await source.read(BLOCK);
    // No end-of-archive blocks at all is tolerated, as GNU tar does; a cut header is not.
    if (header.length === 0) return;
    if (header.length < BLOCK) throw new Error('the archive ends inside a header');
    if (header.every((byte) => byte === 0)) return;
    if (!checksumMatches(header)) throw new Error('a header has a bad checksum');
    const type = String.fromCharCode(header[156]);
    const headerSize = parseSize(header.subarray(124, 136));

    if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
      if (++metaHeaders > MAX_META_HEADERS) throw new Error(`more than ${MAX_META_HEADERS} metadata headers (pax or GNU long names) come before one entry`);
      if (headerSize > MAX_META_BYTES) throw new Error(`a metadata header of ${headerSize} bytes is over ${MAX_META_BYTES}`);
      const body = (await source.readExactly(padded(headerSize))).subarray(0, headerSize);
      if (type === 'x') pax = { ...pax, ...parsePax(body) };
      else if (type === 'g' && Object.keys(parsePax(body)).length > 0) throw new Error('a global pax header sets a path or size for every entry, which is not supported');
      else if (type === 'L') longName = Buffer.from(cString(body));
      continue;
    }

    const rawName = pax.path ?? longName ?? ustarName(header);
    const size = pax.size ? parseDecimal(pax.size) : headerSize;
    pax = {};
    longName = undefined;
    metaHeaders = 0;

    const name = decodeName(rawName);
    const isFile = FILE_TYPES.has(type) && !(name ?? '').endsWith('/');
    const kind = isFile ? 'file' : 'directory';
    let problem: string | undefined;
    if (name === undefined) problem = 'has a name that is not valid UTF-8';
    else if (!isFile && type !== '5' && !FILE_TYPES.has(type)) problem = PROBLEMS[type] ?? `has the tar type ${JSON.stringify(type)}`;
    // Its bytes would be inflated and skipped uncounted: zeros gzip ~1000:1.
    else if (!isFile && size > 0) problem = `is a folder that declares ${size} bytes of content`;

    let remaining = size;
    async function* content(): AsyncGenerator<Buffer> {
      while (remaining > 0) {
        const part = await source.take(Math.min(remaining, CONTENT_CHUNK));
        if (!part) throw new Error('the archive ends inside an entry');
        remaining -= part.length;
        yield part;
      }
    }
    yield {
      name: name ?? rawName.toString('latin1'),
      kind,
      problem,
      declaredSize: isFile ? size : 0,
      content: async () => content(),
    };
    // Whatever the consumer did not read (a folder's or skipped entry's data), then the padding.
    await source.skip(remaining + padded(size) - size);
  }
}

/** Buffers at most one chunk of the stream; everything else waits upstream (backpressure). */
class ByteSource {
  private pending: Buffer = Buffer.alloc(0);
  private taken = 0;

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    private readonly limit: StreamLimit,
  ) {}

  /** Up to `max` bytes, or undefined at the end of the stream; every byte counts against the limit. */
  async take(max: number): Promise<Buffer | undefined> {
    while (this.pending.length === 0) {
      const step = await this.chunks.next();
      if (step.done) return undefined;
      this.pending = step.value;
    }
    const part = this.pending.subarray(0, max);
    this.pending = this.pending.subarray(part.length);
    this.taken += part.length;
    if (this.taken > this.limit.bytes) throw this.limit.refuse();
    return part;
  }

  /** `length` bytes, or fewer if the stream ends first. */
  async read(length: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let got = 0; got < length; ) {
      const part = await this.take(length - got);
      if (!part) break;
      parts.push(part);
      got += part.length;
    }
    return Buffer.concat(parts);
  }

  async readExactly(length: number): Promise<Buffer> {
    const bytes = await this.read(length);
    if (bytes.length < length) throw new Error('the archive ends inside an entry');
    return bytes;
  }

  async skip(length: number): Promise<void> {
    for (let left = length; left > 0; ) {
      const part = await this.take(Math.min(left, CONTENT_CHUNK));
      if (!part) throw new Error('the archive ends inside an entry');
      left -= part.length;
    }
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function checksumMatches(header: Buffer): boolean {
  let sum = 0;
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 0x20 : header[index];
  return parseOctal(header.subarray(148, 156)) === sum;
}

/** Octal text, or GNU base-256 when the first byte has its high bit set. */
function parseSize(field: Buffer): number {
  if (field[0] & 0x80) {
    let value = field[0] & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    if (!Number.isSafeInteger(value)) throw new Error('an entry size is too large');
    return value;
  }
  return parseOctal(field);
}

function parseOctal(field: Buffer): number {
  const text = cString(field).toString('latin1').trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`a header field holds "${text}" where a number belongs`);
  return parseInt(text, 8);
}

function parseDecimal(bytes: Buffer): number {
  const text = bytes.toString('latin1');
  if (!/^\d{1,16}$/.test(text)) throw new Error(`a pax size of "${text}" is not a number`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error('an entry size is too large');
  return value;
}

function ustarName(header: Buffer): Buffer {
  const name = cString(header.subarray(0, 100));
  const isUstar = header.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = isUstar ? cString(header.subarray(345, 500)) : Buffer.alloc(0);
  return prefix.length > 0 ? Buffer.concat([prefix, Buffer.from('/'), name]) : name;
}

/** The only pax keys the reader uses; links are refused, so linkpath is not among them. */
interface PaxKeys {
  path?: Buffer;
  size?: Buffer;
}

/**
 * Pax records are "<length> <key>=<value>\n", the length counting the whole record in bytes.
 * Other keys are dropped and the values copied, so a header's 64 KB buffer is not kept alive.
 */
function parsePax(body: Buffer): PaxKeys {
  const records: PaxKeys = {};
  for (let at = 0; at < body.length && body[at] !== 0; ) {
    const space = body.indexOf(0x20, at);
    const length = space > at ? Number(body.toString('latin1', at, space)) : NaN;
    if (!Number.isInteger(length) || length <= space - at || at + length > body.length) throw new Error('a pax header is malformed');
    const record = body.subarray(space + 1, at + length - 1);
    const equals = record.indexOf(0x3d);
    if (equals < 1) throw new Error('a pax header is malformed');
    const key = record.toString('latin1', 0, equals);
    if (key === 'path' || key === 'size') records[key] = Buffer.from(record.subarray(equals + 1));
    at += length;
  }
  return records;
}

function cString(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0);
  return end === -1 ? bytes : bytes.subarray(0, end);
}

function decodeName(bytes: Buffer): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
