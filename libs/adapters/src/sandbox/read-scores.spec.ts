import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readScoresFile } from './read-scores';

describe('readScoresFile', () => {
  let root: string;
  let file: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'read-scores-'));
    file = path.join(root, 'scores.json');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads a regular file up to the limit, and none as null', async () => {
    expect(await readScoresFile(file)).toEqual({ json: null });
    await writeFile(file, '{"auroc": 0.9}');
    expect(await readScoresFile(file)).toEqual({ json: '{"auroc": 0.9}' });
    await writeFile(file, 'x'.repeat(64));
    expect(await readScoresFile(file, 64)).toEqual({ json: 'x'.repeat(64) });
  });

  it('refuses a larger file, a link, a folder and a fifo (without blocking on it)', async () => {
    await writeFile(file, 'x'.repeat(65));
    expect(await readScoresFile(file, 64)).toEqual({ problem: 'scores.json is larger than 64 bytes' });
    await rm(file);
    await writeFile(path.join(root, 'labels.json'), '{"auroc": 1}');
    await symlink(path.join(root, 'labels.json'), file);
    expect(await readScoresFile(file)).toEqual({ problem: 'scores.json is a symbolic link, not a regular file' });
    await rm(file);
    await mkdir(file);
    expect(await readScoresFile(file)).toEqual({ problem: 'scores.json is not a regular file' });
    await rm(file, { recursive: true });
    execFileSync('mkfifo', [file]);
    expect(await readScoresFile(file)).toEqual({ problem: 'scores.json is not a regular file' });
  });
});
