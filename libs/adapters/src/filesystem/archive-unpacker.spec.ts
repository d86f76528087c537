import { Invalid, TooLarge } from '@app/domain';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { paxRecord, RawEntry, tarBytes } from '../../test/tar-kit';
import { UnpackBudget, unpackArchive } from './archive-unpacker';
import { NameRegistry } from './name-registry';

const MB = 2 ** 20;
let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'leadersboard-unpack-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Gzips the entries in memory, writes the .tar.gz to the temp dir and unpacks it into files/. */
async function unpack(entries: RawEntry[], limits = { maxSubmissionBytes: 10 * MB, maxArchiveEntries: 100 }, end = true) {
  const archivePath = path.join(root, 'code.tar.gz');
  await writeFile(archivePath, gzipSync(tarBytes(entries, end)));
  const target = path.join(root, 'files');
  await rm(target, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(target));
  await unpackArchive(archivePath, 'code.tar.gz', target, new UnpackBudget(limits, new NameRegistry()));
  return readdir(target, { recursive: true });
}

const file = (name: string, text = 'x'): RawEntry => ({ name, type: '0', body: Buffer.from(text) });

describe('unpackArchive (tar.gz, real temp dirs)', () => {
  // Attack: a folder entry declares 8 MB and is followed by 8 MB of zeros (8 KB gzipped);
  // the bytes were inflated and skipped twice, uncounted. Scaled up, 100 MB inflates to 100 GB.
  it('refuses a folder entry that declares content, as Invalid naming it', async () => {
    const error = await unpack([{ name: 'big/', type: '5', body: Buffer.alloc(8 * MB) }, file('a.py')]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Invalid);
    expect((error as Error).message).toMatch(/archive "code.tar.gz": entry "big\/" is a folder that declares 8388608 bytes of content/);
  });

  it('stops its first pass at a device entry, without inflating what the entry declares', async () => {
    const terabyte = Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0]);
    const device = { name: 'dev', type: '3', size: terabyte, body: Buffer.alloc(8 * MB) };
    await expect(unpack([device], undefined, false)).rejects.toThrow(/archive "code.tar.gz": entry "dev" is a device/);
  });

  // Attack: metadata headers were read before any count; 3 per entry, 60 KB each, for every entry.
  it('counts header bytes against the submission limit, as TooLarge naming it', async () => {
    const padding = (index: number): RawEntry => ({ name: 'pax', type: 'x', body: Buffer.from(paxRecord('comment', 'c'.repeat(60_000 + index))) });
    const entries = Array.from({ length: 20 }, (_, index) => [padding(1), padding(2), padding(3), file(`f${index}.py`)]).flat();
    const error = await unpack(entries, { maxSubmissionBytes: 1000, maxArchiveEntries: 100 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TooLarge);
    expect((error as Error).message).toMatch(/archive "code.tar.gz" inflates to more than .*: over the 1000 bytes limit per submission/);
  });

  it('still unpacks a pax long name and a global header under a tight byte limit', async () => {
    const global = { name: 'pax_global_header', type: 'g', body: Buffer.from(paxRecord('comment', 'f'.repeat(40))) };
    const long = `${'d'.repeat(200)}/${'m'.repeat(100)}.py`;
    const pax = { name: 'pax', type: 'x', body: Buffer.from(paxRecord('path', long)) };
    expect(await unpack([global, pax, file('short.py', 'print(1)')], { maxSubmissionBytes: 1000, maxArchiveEntries: 10 })).toEqual(['d'.repeat(200), long]);
  });
});
