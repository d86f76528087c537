import { chunksOf, paxFlood, paxRecord, tarBytes } from '../../test/tar-kit';
import { readTarEntries } from './tar-reader';

/** Reads every entry (content included) up to the first problem, as the unpacker does. */
async function readAll(bytes: Buffer, limit = { bytes: Infinity, refuse: () => new Error('over the limit') }) {
  const seen: { name: string; kind: string; problem?: string }[] = [];
  for await (const entry of readTarEntries(chunksOf(bytes), limit)) {
    seen.push({ name: entry.name, kind: entry.kind, problem: entry.problem });
    if (entry.problem) break;
    if (entry.kind === 'file') for await (const chunk of await entry.content()) void chunk;
  }
  return seen;
}

const file = (name: string, text = 'x') => ({ name, type: '0', body: Buffer.from(text) });

describe('readTarEntries', () => {
  it('uses the pax path and size of the header before an entry', async () => {
    const pax = { name: 'pax', type: 'x', body: Buffer.from(paxRecord('path', 'long/é.py') + paxRecord('mtime', '1')) };
    expect(await readAll(tarBytes([pax, file('short.py')]))).toEqual([{ name: 'long/é.py', kind: 'file', problem: undefined }]);
  });

  it('ignores a global pax header that only carries a comment (git archive writes one)', async () => {
    const global = { name: 'pax_global_header', type: 'g', body: Buffer.from(paxRecord('comment', 'a'.repeat(40))) };
    expect(await readAll(tarBytes([global, file('a.py')]))).toEqual([{ name: 'a.py', kind: 'file', problem: undefined }]);
  });

  it('refuses a global pax header that sets a path or size for every entry after it', async () => {
    const global = { name: 'g', type: 'g', body: Buffer.from(paxRecord('path', 'x.py')) };
    await expect(readAll(tarBytes([global, file('a.py')]))).rejects.toThrow(/global pax header/);
  });

  // Attack: pax headers of 64 KiB with ~5,000 distinct keys each were merged into one object
  // (quadratic CPU, every buffer kept alive) and never counted against any limit.
  it.each(['x', 'g'])('refuses a run of pax "%s" headers before an entry, quickly', async (type) => {
    const headers = Array.from({ length: 12 }, (_, index) => ({ name: 'pax', type, body: paxFlood(String(index), 60 * 1024) }));
    const started = Date.now();
    await expect(readAll(tarBytes([...headers, file('a.py')]))).rejects.toThrow(/more than 3 metadata headers/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a run of GNU long-name headers before an entry', async () => {
    const longNames = Array.from({ length: 5 }, () => ({ name: '././@LongLink', type: 'L', body: Buffer.from('a'.repeat(300)) }));
    await expect(readAll(tarBytes([...longNames, file('a.py')]))).rejects.toThrow(/more than 3 metadata headers/);
  });

  // Attack: a folder declaring a huge size, followed by zeros that gzip shrinks ~1000:1.
  it.each([
    ['octal', 0o77777777777],
    ['base-256', Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0])],
  ])('reports a folder that declares content (%s size) as a problem', async (_, size) => {
    const bytes = tarBytes([{ name: 'dir/', type: '5', size, body: Buffer.alloc(0) }], false);
    expect(await readAll(bytes)).toEqual([{ name: 'dir/', kind: 'directory', problem: expect.stringMatching(/folder that declares \d+ bytes/) }]);
  });

  it('reports a folder whose pax size is huge as a problem, and refuses a size past 2^53', async () => {
    const folder = (size: string) => tarBytes([{ name: 'pax', type: 'x', body: Buffer.from(paxRecord('size', size)) }, { name: 'dir/', type: '5' }], false);
    const [entry] = await readAll(folder('999999999999999'));
    expect(entry.problem).toMatch(/folder that declares 999999999999999 bytes/);
    await expect(readAll(folder('9999999999999999'))).rejects.toThrow(/an entry size is too large/);
  });

  it('refuses a stream past its byte limit, headers and skipped bytes included', async () => {
    const refusal = new Error('too much');
    const bytes = tarBytes([file('a.bin', 'z'.repeat(20_000)), file('b.py')]);
    await expect(readAll(bytes, { bytes: 10_000, refuse: () => refusal })).rejects.toBe(refusal);
    await expect(readAll(bytes, { bytes: bytes.length, refuse: () => refusal })).resolves.toHaveLength(2);
  });
});
