import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { tarBytes } from './tar';

describe('tarBytes (a picked folder, packed in the browser)', () => {
  it('writes a tar that the tar package unpacks, long paths included', async () => {
    const long = `${'deep/'.repeat(25)}model.py`;
    const entries = [
      { path: 'main.py', data: new TextEncoder().encode('print("hi")\n'), modified: Date.UTC(2026, 0, 1) },
      { path: 'src/über.py', data: new Uint8Array(600).fill(65), modified: Date.UTC(2026, 0, 1) },
      { path: long, data: new Uint8Array(0), modified: Date.UTC(2026, 0, 1) },
    ];
    const work = await mkdtemp(path.join(tmpdir(), 'web-tar-'));
    try {
      const archive = path.join(work, 'folder.tar.gz');
      await import('node:fs/promises').then((fs) => fs.writeFile(archive, gzipSync(Buffer.concat(tarBytes(entries)))));
      await tar.x({ file: archive, cwd: work, strict: true });
      expect(await readFile(path.join(work, 'main.py'), 'utf8')).toBe('print("hi")\n');
      expect((await readFile(path.join(work, 'src', 'über.py'))).length).toBe(600);
      expect((await readFile(path.join(work, long))).length).toBe(0);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses a path no ustar header can hold', () => {
    expect(() => tarBytes([{ path: 'x'.repeat(120), data: new Uint8Array(0), modified: 0 }])).toThrow('too long to pack');
  });
});
