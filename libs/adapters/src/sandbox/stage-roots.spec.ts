import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { newStageRoot, removeStaleStageRoots } from './stage-roots';

describe('stage roots', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'stage-roots-'));
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  async function make(root: string): Promise<string> {
    await mkdir(path.join(root, 'slot-0', 'submission'), { recursive: true });
    await writeFile(path.join(root, 'slot-0', 'submission', 'main.py'), 'print(1)\n');
    return path.basename(root);
  }

  it('removes what dead workers of this host left, and keeps live ones, this process\'s other runners and other hosts', async () => {
    const deadPid = spawnSync('true').pid!;
    const own = newStageRoot(workDir, process.pid, 'node-a');
    await make(own);
    const dead = await make(newStageRoot(workDir, deadPid, 'node-a'));
    const sibling = await make(newStageRoot(workDir, process.pid, 'node-a'));
    // Named for this pid but not made by this process: a restarted container's leftover.
    const restarted = await make(path.join(workDir, `stage-node-a-${process.pid}-0123abcd`));
    const live = await make(newStageRoot(workDir, process.ppid, 'node-a'));
    const otherHost = await make(newStageRoot(workDir, deadPid, 'node-b'));
    await mkdir(path.join(workDir, 'launcher-not-a-stage'));

    const removed = await removeStaleStageRoots(workDir, process.pid, 'node-a');

    expect(removed.sort()).toEqual([dead, restarted].sort());
    expect((await readdir(workDir)).sort()).toEqual([path.basename(own), sibling, live, otherHost, 'launcher-not-a-stage'].sort());
  });

  it('names a root for its host and pid whatever characters the host name has', () => {
    expect(path.basename(newStageRoot('/w', 42, 'we ird/host'))).toMatch(/^stage-we_ird_host-42-[0-9a-f]{8}$/);
  });

  it('does nothing when the work dir does not exist yet', async () => {
    await expect(removeStaleStageRoots(path.join(workDir, 'missing'))).resolves.toEqual([]);
  });
});
