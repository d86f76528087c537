import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { detectCgroups, field } from './cgroup';

/** Detection against fake cgroup trees (plain directories): the real kernel is covered by the runner's spec. */
describe('detectCgroups', () => {
  let root: string;
  beforeEach(async () => (root = await mkdtemp(path.join(tmpdir(), 'cgroup-spec-'))));
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function touch(file: string, text = ''): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }

  it('uses v1 memory and pids controllers and creates its parent group in each', async () => {
    await touch(path.join(root, 'memory/memory.limit_in_bytes'));
    await touch(path.join(root, 'pids/cgroup.procs'));
    await touch(path.join(root, 'unified/cgroup.controllers'));
    expect(await detectCgroups(root)).toEqual({
      version: 1,
      memoryParent: path.join(root, 'memory/leadersboard'),
      pidsParent: path.join(root, 'pids/leadersboard'),
    });
  });

  it('uses a pure v2 mount that delegates memory and pids, and enables them for the jobs', async () => {
    await touch(path.join(root, 'cgroup.controllers'), 'cpu memory pids');
    await touch(path.join(root, 'cgroup.subtree_control'), 'memory pids\n');
    expect(await detectCgroups(root)).toEqual({ version: 2, parent: path.join(root, 'leadersboard') });
    expect(await readFile(path.join(root, 'leadersboard/cgroup.subtree_control'), 'utf8')).toBe('+memory +pids');
  });

  it('uses a hybrid host\'s unified mount only when v1 lacks the controllers and v2 has them', async () => {
    await touch(path.join(root, 'unified/cgroup.controllers'), 'memory pids');
    await touch(path.join(root, 'unified/cgroup.subtree_control'), 'memory pids');
    expect(await detectCgroups(root)).toEqual({ version: 2, parent: path.join(root, 'unified/leadersboard') });
  });

  it('falls back to rlimits, saying why, when nothing is delegated', async () => {
    await touch(path.join(root, 'unified/cgroup.controllers'), '');
    await touch(path.join(root, 'unified/cgroup.subtree_control'), '');
    const support = await detectCgroups(root);
    expect(support.version).toBe('none');
    expect(support).toMatchObject({ reason: expect.stringMatching(/no cgroup v1 memory and pids.*does not delegate memory and pids/) });
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
