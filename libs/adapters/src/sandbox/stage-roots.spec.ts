import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { claimStageRoot, newStageRoot, removeStaleStageRoots } from './stage-roots';

describe('stage roots', () => {
  let workDir: string;
  beforeEach(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'stage-roots-'));
  });
  afterEach(() => rm(workDir, { recursive: true, force: true }));

  /** A root left as a worker on `host` with `pid` leaves it, with a staged submission inside. */
  async function leftBy(host: string, pid: number, name = `stage-${Math.random().toString(16).slice(2, 10).padEnd(8, '0')}00000000`): Promise<string> {
    const root = path.join(workDir, name);
    await claimStageRoot(root, pid, host);
    await mkdir(path.join(root, 'slot-0', 'submission'), { recursive: true });
    await writeFile(path.join(root, 'slot-0', 'submission', 'main.py'), 'print(1)\n');
    return name;
  }

  it('removes what dead workers of this host left, and keeps live ones, this process\'s runners and other hosts', async () => {
    const deadPid = spawnSync('true').pid!;
    const own = newStageRoot(workDir);
    await claimStageRoot(own, process.pid, 'node-a');
    const dead = await leftBy('node-a', deadPid);
    // Owned by this pid but not made by this process: a restarted container's leftover.
    const restarted = await leftBy('node-a', process.pid);
    const live = await leftBy('node-a', process.ppid);
    const otherHost = await leftBy('node-b', deadPid);
    const unclaimed = 'stage-00000000000000ff';
    await mkdir(path.join(workDir, unclaimed));
    await mkdir(path.join(workDir, 'not-a-stage'));

    const removed = await removeStaleStageRoots(workDir, process.pid, 'node-a');

    expect(removed.sort()).toEqual([dead, restarted].sort());
    expect((await readdir(workDir)).sort()).toEqual([path.basename(own), live, otherHost, unclaimed, 'not-a-stage'].sort());
  });

  it('takes a live process that reused a dead owner\'s pid for what it is: not the owner', async () => {
    // The owner's pid now runs another process (this test's parent), started at another time.
    const root = path.join(workDir, 'stage-00000000000000aa');
    await mkdir(root);
    await writeFile(path.join(root, 'owner'), `node-a ${process.ppid} 1\n`);
    const current = path.join(workDir, 'stage-00000000000000bb');
    await claimStageRoot(current, process.ppid, 'node-a');

    expect(await removeStaleStageRoots(workDir, process.pid, 'node-a')).toEqual(['stage-00000000000000aa']);
    expect(await readFile(path.join(current, 'owner'), 'utf8')).toMatch(new RegExp(`^node-a ${process.ppid} [1-9]\\d*\n$`));
  });

  it('names a root with nothing of the host or the worker in it', () => {
    expect(path.basename(newStageRoot('/w'))).toMatch(/^stage-[0-9a-f]{16}$/);
  });

  it('does nothing when the work dir does not exist yet', async () => {
    await expect(removeStaleStageRoots(path.join(workDir, 'missing'))).resolves.toEqual([]);
  });
});
