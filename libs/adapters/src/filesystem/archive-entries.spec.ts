import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { zipEntries } from './archive-entries';

const MiB = 2 ** 20;

describe('zipEntries', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lb-zip-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('hands a lying entry\'s size error to the reader, and never to the process once the reader stopped', async () => {
    // 3 MiB of zeros whose headers claim 1000 bytes: yauzl errors once it has inflated past 1000.
    const archive = path.join(dir, 'liar.zip');
    execFileSync('python3', ['-c', `import zipfile\nwith zipfile.ZipFile(${JSON.stringify(archive)}, 'w', zipfile.ZIP_DEFLATED) as z: z.writestr('zeros.bin', bytes(${3 * MiB}))`]);
    const liar = await readFile(archive);
    liar.writeUInt32LE(1000, 22);
    liar.writeUInt32LE(1000, liar.length - 22 - 46 - 'zeros.bin'.length + 24);
    await writeFile(archive, liar);
    const uncaught: Error[] = [];
    const record = (error: Error) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const seen: string[] = [];
      for (let round = 0; round < 20; round++) {
        try {
          for await (const entry of zipEntries(archive)) {
            // The unpacker stops at its first chunk (its budget ran out, say) and leaves the stream.
            for await (const chunk of await entry.content()) {
              seen.push(`chunk of ${chunk.length}`);
              break;
            }
          }
        } catch (error) {
          // While it reads, the reader itself gets the error (the unpacker answers 400 with it).
          seen.push((error as Error).message);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The sink must not hide the error from the reader: every round ends in it.
      expect(seen).toEqual(Array.from({ length: 20 }, () => expect.stringContaining('too many bytes in the stream. expected 1000')));
    } finally {
      process.off('uncaughtException', record);
    }
    expect(uncaught).toEqual([]);
  });
});
