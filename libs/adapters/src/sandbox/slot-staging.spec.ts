import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SlotStaging } from './slot-staging';

describe('SlotStaging', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'slot-staging-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('collects the output without setuid, setgid or sticky bits, and follows no link', async () => {
    await mkdir(path.join(root, 'stage'));
    const staging = await SlotStaging.create(path.join(root, 'stage'), 0);
    await writeFile(path.join(staging.output, 'tool'), '#!/bin/sh\n');
    await chmod(path.join(staging.output, 'tool'), 0o4755);
    await mkdir(path.join(staging.output, 'shared'));
    await chmod(path.join(staging.output, 'shared'), 0o3775);
    await writeFile(path.join(staging.output, 'shared', 'inner'), 'x');
    await chmod(path.join(staging.output, 'shared', 'inner'), 0o2755);
    const outside = path.join(root, 'outside');
    await writeFile(outside, 'host file');
    await chmod(outside, 0o4755);
    await symlink(outside, path.join(staging.output, 'link'));
    const to = path.join(root, 'artifacts');
    await mkdir(to);

    await staging.collectOutput(to);

    const mode = async (file: string) => (await stat(file)).mode & 0o7777;
    expect(await mode(path.join(to, 'tool'))).toBe(0o755);
    expect(await mode(path.join(to, 'shared'))).toBe(0o775);
    expect(await mode(path.join(to, 'shared', 'inner'))).toBe(0o755);
    // The link target outside the output keeps its mode: nothing followed the link.
    expect(await mode(outside)).toBe(0o4755);
  });

  it('stages a benchmark\'s data readable to the sandbox: links where others may read, copies (0444) where not', async () => {
    const data = path.join(root, 'public');
    await mkdir(path.join(data, 'images'), { recursive: true });
    await writeFile(path.join(data, 'open.csv'), 'a\n');
    await chmod(path.join(data, 'open.csv'), 0o644);
    await writeFile(path.join(data, 'images', 'closed.npy'), 'b');
    await chmod(path.join(data, 'images', 'closed.npy'), 0o600);
    await mkdir(path.join(root, 'stage'));
    const staging = await SlotStaging.create(path.join(root, 'stage'), 0);

    await staging.stageData(data);

    const open = await stat(path.join(staging.data, 'open.csv'));
    expect(open.ino).toBe((await stat(path.join(data, 'open.csv'))).ino);
    const closed = await stat(path.join(staging.data, 'images', 'closed.npy'));
    expect(closed.ino).not.toBe((await stat(path.join(data, 'images', 'closed.npy'))).ino);
    expect(closed.mode & 0o777).toBe(0o444);
    expect(await readFile(path.join(staging.data, 'images', 'closed.npy'), 'utf8')).toBe('b');
    expect((await stat(path.join(data, 'images', 'closed.npy'))).mode & 0o777).toBe(0o600);
  });
});
