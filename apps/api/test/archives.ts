import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

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
