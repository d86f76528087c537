/**
 * A folder becomes one .tar.gz: the API takes plain file names only (folders travel in an archive).
 * Writes POSIX ustar headers; names longer than the header allows are refused with a message.
 */
export interface FolderEntry {
  /** Path inside the folder, with "/" separators. */
  path: string;
  data: Uint8Array;
  modified: number;
}

const encoder = new TextEncoder();

export function tarHeader(entry: FolderEntry): Uint8Array {
  const header = new Uint8Array(512);
  const nameBytes = encoder.encode(entry.path);
  let name = nameBytes;
  let prefix = new Uint8Array(0);
  if (nameBytes.length > 100) {
    const cut = entry.path.lastIndexOf('/', 155);
    if (cut <= 0) throw new Error(`the path "${entry.path}" is too long to pack`);
    prefix = encoder.encode(entry.path.slice(0, cut));
    name = encoder.encode(entry.path.slice(cut + 1));
    if (prefix.length > 155 || name.length > 100) throw new Error(`the path "${entry.path}" is too long to pack`);
  }
  const writeText = (bytes: Uint8Array, offset: number) => header.set(bytes, offset);
  const writeOctal = (value: number, offset: number, length: number) => writeText(encoder.encode(value.toString(8).padStart(length - 1, '0') + '\0'), offset);
  writeText(name, 0);
  writeOctal(0o644, 100, 8);
  writeOctal(0, 108, 8);
  writeOctal(0, 116, 8);
  writeOctal(entry.data.length, 124, 12);
  writeOctal(Math.floor(entry.modified / 1000), 136, 12);
  header.fill(0x20, 148, 156);
  header[156] = 0x30;
  writeText(encoder.encode('ustar\0'), 257);
  writeText(encoder.encode('00'), 263);
  writeText(prefix, 345);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  writeText(encoder.encode(checksum.toString(8).padStart(6, '0') + '\0 '), 148);
  return header;
}

/** The uncompressed tar stream: each header, the file padded to 512 bytes, then two empty blocks. */
export function tarBytes(entries: FolderEntry[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry), entry.data);
    const padding = (512 - (entry.data.length % 512)) % 512;
    if (padding) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(1024));
  return parts;
}
