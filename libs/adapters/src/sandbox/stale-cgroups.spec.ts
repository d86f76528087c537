import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownedGroupName, ownIdentity, parseGroupName, processStart } from './process-identity';
import { removeStaleCgroups } from './stale-cgroups';

/** The host's real cgroup v1 tree (root only), under a parent of this test's own. */
const ROOT = '/sys/fs/cgroup';
const usable = process.getuid?.() === 0 && existsSync(path.join(ROOT, 'memory', 'memory.limit_in_bytes')) && existsSync(path.join(ROOT, 'pids', 'cgroup.procs'));

describe('cgroup names carry their worker', () => {
  it('names the job first and its owner after an @ no job id holds, and reads it back', () => {
    const own = ownIdentity();
    expect(own.start).toBe(processStart(process.pid));
    const name = ownedGroupName(own, 'job-1.a_b');
    expect(name).toMatch(new RegExp(`^job-1\\.a_b@[0-9a-f]{8}-${process.pid}-${own.start}$`));
    expect(parseGroupName(name)).toEqual({ hostTag: expect.stringMatching(/^[0-9a-f]{8}$/), pid: process.pid, start: own.start, jobId: 'job-1.a_b' });
    expect(parseGroupName('job-1')).toBeUndefined();
  });
});

(usable ? describe : describe.skip)('removeStaleCgroups (real cgroup v1)', () => {
  const parentName = `leadersboard-test-${process.pid}`;
  const parents = ['memory', 'pids'].map((controller) => path.join(ROOT, controller, parentName));

  afterAll(async () => {
    for (const parent of parents) {
      for (const name of await readdir(parent).catch(() => [] as string[])) {
        if (existsSync(path.join(parent, name, 'cgroup.procs'))) await rmdir(path.join(parent, name)).catch(() => undefined);
      }
      await rmdir(parent).catch(() => undefined);
    }
  });

  async function group(name: string): Promise<void> {
    for (const parent of parents) await mkdir(path.join(parent, name), { recursive: true });
  }

  it('kills what runs in a dead worker\'s groups and removes them; leaves live, own, other hosts\' and foreign ones', async () => {
    const own = ownIdentity();
    const deadPid = spawnSync('true').pid!;
    const dead = ownedGroupName({ host: hostname(), pid: deadPid, start: 12345 }, 'job-dead');
    // The dead worker's pid reused by a live process (this test's parent) started at another time: still dead.
    const reused = ownedGroupName({ host: hostname(), pid: process.ppid, start: 1 }, 'job-reused');
    const live = ownedGroupName({ host: hostname(), pid: process.ppid, start: processStart(process.ppid) }, 'job-live');
    const mine = ownedGroupName(own, 'job-mine');
    const otherHost = ownedGroupName({ host: `${hostname()}-other`, pid: deadPid, start: 12345 }, 'job-other');
    const foreign = 'job-without-owner';
    for (const name of [dead, reused, live, mine, otherHost, foreign]) await group(name);
    // A sandbox process the dead worker left running in its group.
    const orphan = spawn('sleep', ['60'], { stdio: 'ignore' });
    const gone = new Promise((resolve) => orphan.once('exit', (code, signal) => resolve(signal)));
    for (const parent of parents) await writeFile(path.join(parent, dead, 'cgroup.procs'), String(orphan.pid));

    const removed = await removeStaleCgroups(ROOT, own, parentName);

    expect(removed.sort()).toEqual([dead, reused].sort());
    const timer = new AbortController();
    await expect(Promise.race([gone, sleep(5000, 'still running', { signal: timer.signal })])).resolves.toBe('SIGKILL');
    timer.abort();
    for (const parent of parents) {
      const groups = (await readdir(parent, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      expect(groups.sort()).toEqual([live, mine, otherHost, foreign].sort());
    }
  });
});
