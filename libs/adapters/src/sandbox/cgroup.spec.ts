import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cgroupControllers, cpuQuotaUs, detectCgroups, field } from './cgroup';

/** Detection against fake cgroup trees (plain directories): the real kernel is covered by the runner's spec. */
describe('detectCgroups', () => {
  let root: string;
  beforeEach(async () => (root = await mkdtemp(path.join(tmpdir(), 'cgroup-spec-'))));
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function touch(file: string, text = ''): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }

  it('uses v1 memory and pids controllers and creates its parent group in each, without cpu where the host has none', async () => {
    await touch(path.join(root, 'memory/memory.limit_in_bytes'));
    await touch(path.join(root, 'pids/cgroup.procs'));
    await touch(path.join(root, 'unified/cgroup.controllers'));
    const support = await detectCgroups(root);
    expect(support).toEqual({
      version: 1,
      memoryParent: path.join(root, 'memory/leadersboard'),
      pidsParent: path.join(root, 'pids/leadersboard'),
      cpuParent: null,
    });
    expect(cgroupControllers(support as Exclude<typeof support, { version: 'none' }>)).toBe('memory, pids; no cpu controller, so no CPU quota');
  });

  it('uses v1 cpu for the CPU quota when the host mounts it', async () => {
    await touch(path.join(root, 'memory/memory.limit_in_bytes'));
    await touch(path.join(root, 'pids/cgroup.procs'));
    await touch(path.join(root, 'cpu/cpu.cfs_quota_us'));
    expect(await detectCgroups(root)).toMatchObject({ version: 1, cpuParent: path.join(root, 'cpu/leadersboard') });
  });

  it('uses a pure v2 mount that delegates memory and pids, and enables them and cpu for the jobs', async () => {
    await touch(path.join(root, 'cgroup.controllers'), 'cpu memory pids');
    await touch(path.join(root, 'cgroup.subtree_control'), 'memory pids\n');
    expect(await detectCgroups(root)).toEqual({ version: 2, parent: path.join(root, 'leadersboard'), cpu: true });
    // A plain file keeps only the last write: cpu was enabled after memory and pids, at the root first.
    expect(await readFile(path.join(root, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu');
    expect(await readFile(path.join(root, 'leadersboard/cgroup.subtree_control'), 'utf8')).toBe('+cpu');
  });

  it('uses a hybrid host\'s unified mount only when v1 lacks the controllers and v2 has them', async () => {
    await touch(path.join(root, 'unified/cgroup.controllers'), 'memory pids');
    await touch(path.join(root, 'unified/cgroup.subtree_control'), 'memory pids');
    expect(await detectCgroups(root)).toEqual({ version: 2, parent: path.join(root, 'unified/leadersboard'), cpu: false });
  });

  it('falls back to rlimits, saying why, when nothing is delegated', async () => {
    await touch(path.join(root, 'unified/cgroup.controllers'), '');
    await touch(path.join(root, 'unified/cgroup.subtree_control'), '');
    const support = await detectCgroups(root);
    expect(support.version).toBe('none');
    expect(support).toMatchObject({ reason: expect.stringMatching(/no cgroup v1 memory and pids.*does not delegate memory and pids/) });
  });
});

describe('cpuQuotaUs', () => {
  it('gives cores x the 100 ms period, and never less than the 1 ms the kernel accepts', () => {
    expect(cpuQuotaUs(0.5)).toBe(50000);
    expect(cpuQuotaUs(2)).toBe(200000);
    expect(cpuQuotaUs(0.001)).toBe(1000);
  });
});

describe('field', () => {
  it('reads counters from memory.oom_control, memory.events and pids.events', () => {
    expect(field('oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', 'oom_kill')).toBe(2);
    expect(field('low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 1\n', 'max')).toBe(5);
    expect(field('max 0\n', 'max')).toBe(0);
    expect(field('', 'max')).toBe(0);
  });
});
