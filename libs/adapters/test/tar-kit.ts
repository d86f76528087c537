/** Builds tar bytes in memory for the reader's attack tests: headers are written by hand, so any field can lie. */
const BLOCK = 512;

export interface RawEntry {
  name: string;
  /** Tar type flag: "0" file, "5" folder, "x"/"g" pax, "L" GNU long name... */
  type: string;
  body?: Buffer;
  /** The size field as written: a number (octal), or raw 12 bytes (base-256); default the body's length. */
  size?: number | Buffer;
}

export function tarBytes(entries: RawEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = entry.body ?? Buffer.alloc(0);
    parts.push(tarHeader(entry), body, Buffer.alloc(Math.ceil(body.length / BLOCK) * BLOCK - body.length));
  }
  if (end) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

/** One ustar header block with a correct checksum; its fields say whatever the entry says. */
export function tarHeader(entry: RawEntry): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(entry.name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  const size = entry.size ?? (entry.body ?? Buffer.alloc(0)).length;
  if (typeof size === 'number') block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  else size.copy(block, 124);
  block.write('00000000000\0', 136, 'latin1');
  block[156] = entry.type.charCodeAt(0);
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** One pax record: "<length> <key>=<value>\n", the length counting itself. */
export function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length += 1;
  return `${length}${rest}`;
}

/** A pax body of about `bytes` bytes whose keys are all distinct (tagged with `tag`). */
export function paxFlood(tag: string, bytes: number): Buffer {
  const records: string[] = [];
  let total = 0;
  for (let index = 0; ; index++) {
    const record = paxRecord(`k${tag}.${index}`, 'v');
    if (total + record.length > bytes) break;
    records.push(record);
    total += record.length;
  }
  return Buffer.from(records.join(''), 'latin1');
}

export async function* chunksOf(bytes: Buffer, chunk = 64 * 1024): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
}
