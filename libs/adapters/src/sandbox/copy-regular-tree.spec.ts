import { execFileSync } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { copyRegularTree, PREDICTION_LIMITS } from './copy-regular-tree';

describe('copyRegularTree', () => {
  let root: string;
  let from: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'copy-tree-'));
    from = path.join(root, 'output');
    await mkdir(path.join(from, 'nested'), { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('copies regular files (0444, no setuid) and folders (0555), and leaves out links, fifos and sockets, naming them', async () => {
    await writeFile(path.join(from, 'predictions.csv'), 'id,score\n');
    await writeFile(path.join(from, 'nested', 'tool'), '#!/bin/sh\n');
    await chmod(path.join(from, 'nested', 'tool'), 0o4755);
    await writeFile(path.join(root, 'labels.csv'), 'secret');
    await symlink(path.join(root, 'labels.csv'), path.join(from, 'labels-link.csv'));
    await symlink('nested', path.join(from, 'dir-link'));
    execFileSync('mkfifo', [path.join(from, 'pipe')]);

    const leftOut = await copyRegularTree(from, path.join(root, 'copy'));

    expect(leftOut).toEqual(['dir-link: a symbolic link', 'labels-link.csv: a symbolic link', 'pipe: a fifo']);
    expect((await readdir(path.join(root, 'copy'))).sort()).toEqual(['nested', 'predictions.csv']);
    expect(await readFile(path.join(root, 'copy', 'predictions.csv'), 'utf8')).toBe('id,score\n');
    expect((await lstat(path.join(root, 'copy', 'nested', 'tool'))).mode & 0o7777).toBe(0o444);
    expect((await lstat(path.join(root, 'copy', 'nested'))).mode & 0o7777).toBe(0o555);
    expect((await lstat(path.join(root, 'copy'))).mode & 0o7777).toBe(0o555);
  });

  it('refuses an output that is a link, not a folder', async () => {
    await symlink(from, path.join(root, 'link'));
    await expect(copyRegularTree(path.join(root, 'link'), path.join(root, 'copy'))).rejects.toThrow(/is a symbolic link, not a folder/);
  });

  it('stops at the size, entry and depth limits with a clear message', async () => {
    await writeFile(path.join(from, 'big.bin'), Buffer.alloc(2048));
    await expect(copyRegularTree(from, path.join(root, 'a'), { ...PREDICTION_LIMITS, maxBytes: 1024 })).rejects.toThrow(/larger than the 1024 bytes a scorer is given/);
    for (let index = 0; index < 5; index++) await writeFile(path.join(from, `f${index}`), 'x');
    await expect(copyRegularTree(from, path.join(root, 'b'), { ...PREDICTION_LIMITS, maxEntries: 4 })).rejects.toThrow(/more than 4 files and folders/);
    await mkdir(path.join(from, 'nested', 'deeper', 'deepest'), { recursive: true });
    await expect(copyRegularTree(from, path.join(root, 'c'), { ...PREDICTION_LIMITS, maxDepth: 1 })).rejects.toThrow(/deeper than 1/);
  });
});
