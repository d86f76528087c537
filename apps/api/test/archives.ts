import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { tarHeader } from '../../../libs/adapters/test/tar-kit';

/**
 * Builds archives with Python's zipfile/tarfile, which can write the hostile entries (escaping paths,
 * links) that well-behaved Node libraries refuse to create.
 */
export function buildArchive(kind: 'zip' | 'tar.gz', entries: { name: string; content?: string; symlinkTo?: string; hardlinkTo?: string }[]): Buffer {
  const directory = mkdtempSync(path.join(tmpdir(), 'lb-archive-'));
  const target = path.join(directory, `archive.${kind}`);
  const script = `
import io, json, sys, tarfile, zipfile
kind, target, entries = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
if kind == 'zip':
    with zipfile.ZipFile(target, 'w') as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry['name'])
            if entry.get('symlinkTo'):
                info.external_attr = (0o120777 << 16)
                archive.writestr(info, entry['symlinkTo'])
            else:
                archive.writestr(info, entry.get('content', ''))
else:
    with tarfile.open(target, 'w:gz') as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry['name'])
            if entry.get('symlinkTo'):
                info.type, info.linkname = tarfile.SYMTYPE, entry['symlinkTo']
                archive.addfile(info)
            elif entry.get('hardlinkTo'):
                info.type, info.linkname = tarfile.LNKTYPE, entry['hardlinkTo']
                archive.addfile(info)
            else:
                data = entry.get('content', '').encode()
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
`;
  execFileSync('python3', ['-c', script, kind, target, JSON.stringify(entries)]);
  const bytes = readFileSync(target);
  rmSync(directory, { recursive: true, force: true });
  return bytes;
}

const MiB = 2 ** 20;

/**
 * A .tar.gz whose entries are all zeros, built in milliseconds however large it unpacks: gzip
 * allows concatenated members, so one compressed MiB of zeros is repeated instead of compressing
 * gigabytes. 2 GiB of content is about 2 MB on the wire.
 */
export function tarGzBomb(entries: { name: string; size: number }[]): Buffer {
  const zeroMember = gzipSync(Buffer.alloc(MiB));
  const members: Buffer[] = [];
  const zeros = (length: number) => {
    for (; length >= MiB; length -= MiB) members.push(zeroMember);
    if (length > 0) members.push(gzipSync(Buffer.alloc(length)));
  };
  for (const entry of entries) {
    members.push(gzipSync(tarHeader({ name: entry.name, type: '0', size: entry.size })));
    zeros(Math.ceil(entry.size / 512) * 512);
  }
  zeros(1024);
  return Buffer.concat(members);
}

/**
 * A zip with one entry of `size` zeros (under 4 GiB), deflated: one sync-flushed MiB of zeros is
 * repeated (back-references into earlier zeros stay valid), then an empty final block.
 */
export function zipBomb(name: string, size: number): Buffer {
  const chunk = deflateRawSync(Buffer.alloc(MiB), { finishFlush: constants.Z_SYNC_FLUSH });
  const parts: Buffer[] = [];
  let crc = 0;
  const zeroMiB = Buffer.alloc(MiB);
  for (let left = size; left > 0; left -= MiB) {
    const piece = left >= MiB ? chunk : deflateRawSync(Buffer.alloc(left), { finishFlush: constants.Z_SYNC_FLUSH });
    parts.push(piece);
    crc = crc32(left >= MiB ? zeroMiB : Buffer.alloc(left), crc);
  }
  parts.push(Buffer.from([0x03, 0x00]));
  const data = Buffer.concat(parts);
  const fileName = Buffer.from(name, 'utf8');
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(0x800, 6);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(0x0314, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(0x800, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc >>> 0, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(fileName.length, 28);
  central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  const centralOffset = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}
