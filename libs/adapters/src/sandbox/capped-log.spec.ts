import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { drainToLog, logCutMarker } from './capped-log';

describe('drainToLog', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'capped-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function drain(chunks: string[], maxBytes: number, before = ''): Promise<string> {
    const file = path.join(dir, 'job.log');
    const fd = openSync(file, 'a');
    try {
      if (before) writeSync(fd, before);
      const stream = new PassThrough();
      const done = drainToLog(stream, fd, maxBytes);
      for (const chunk of chunks) stream.write(chunk);
      stream.end();
      await done;
      return readFileSync(file, 'utf8');
    } finally {
      closeSync(fd);
    }
  }

  it('copies everything under the cap, appended after what the log held', async () => {
    expect(await drain(['one\n', 'two\n'], 100, 'earlier run\n')).toBe('earlier run\none\ntwo\n');
  });

  it('cuts at the cap mid-line, puts the marker on a line of its own once, and drops the rest', async () => {
    const log = await drain(['0123456789', 'abcdef\n', 'more\n', 'and more\n'], 12);
    expect(log).toBe(`0123456789ab\n${logCutMarker(12)}`);
  });

  it('needs no extra newline when the cut falls at a line end', async () => {
    expect(await drain(['12345\n', 'x'], 6)).toBe(`12345\n${logCutMarker(6)}`);
  });

  it('says the cap in MB when it is whole megabytes', () => {
    expect(logCutMarker(50 * 2 ** 20)).toBe('[leadersboard: log cut at 50 MB; the rest of the output was discarded]\n');
  });
});
