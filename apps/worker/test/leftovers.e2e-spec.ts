import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { isFinished, runCode, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real processes, real sandbox and the host's cgroups.
jest.setTimeout(120_000);

const CGROUPS = '/sys/fs/cgroup';
const CONTROLLERS = ['memory', 'pids'].filter((controller) => existsSync(path.join(CGROUPS, controller, 'leadersboard')));
const LONG = `import time
print('started', flush=True)
time.sleep(600)
`;

/** The job's cgroups (one per v1 controller), named `<job id>@<host tag>-<worker pid>-<start>`. */
function jobGroups(jobId: string): string[] {
  return CONTROLLERS.flatMap((controller) => {
    const parent = path.join(CGROUPS, controller, 'leadersboard');
    return readdirSync(parent)
      .filter((name) => name.startsWith(`${jobId}@`))
      .map((name) => path.join(parent, name));
  });
}

function groupProcesses(groups: string[]): number[] {
  return groups.flatMap((group) => readFileSync(path.join(group, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
}

/** Staging roots whose owner file names `pid`. */
function stageRootsOf(workDir: string, pid: number): string[] {
  return readdirSync(workDir)
    .filter((name) => name.startsWith('stage-'))
    .filter((name) => readFileSync(path.join(workDir, name, 'owner'), 'utf8').split(' ')[1] === String(pid));
}

(process.getuid?.() === 0 && CONTROLLERS.length > 0 ? describe : describe.skip)('a worker killed with SIGKILL leaves nothing behind once another starts', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ JOB_TIMEOUT_SMALL_S: '300', JOB_STALL_S: '2', REAPER_INTERVAL_S: '1', REAPER_GRACE_S: '1' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('removes the dead worker\'s cgroups and staging root, with nothing left running in them, and re-runs the job', async () => {
    const first = await startWorker(api);
    const firstPid = first.process.pid!;
    const jobId = await runCode(api, { 'main.py': LONG });
    const running = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== null);
    // The sandbox comes up a moment after the status says running.
    for (let attempt = 0; attempt < 100 && groupProcesses(jobGroups(jobId)).length < 2; attempt++) await sleep(100);
    const groups = jobGroups(jobId);
    expect(groups).toHaveLength(CONTROLLERS.length);
    for (const group of groups) expect(path.basename(group)).toMatch(new RegExp(`^${jobId}@[0-9a-f]{8}-${firstPid}-\\d+$`));
    // bwrap, the launcher and the job's python.
    expect(groupProcesses(groups).length).toBeGreaterThanOrEqual(2);
    const workDir = api.config.workerWorkDir;
    const [stageRoot] = stageRootsOf(workDir, firstPid);
    expect(stageRoot).toBeDefined();

    const sandbox = groupProcesses(groups);
    await stopWorker(first, 'SIGKILL');
    await sleep(1000);
    // What a SIGKILLed worker leaves: its groups, its staging root (with the run's /output still
    // mounted) and, at times, bwrap's outer process reparented to init (seen while writing this:
    // --die-with-parent reliably takes down the sandbox's inside, not always bwrap itself).
    expect(groups.filter((group) => existsSync(group))).toEqual(groups);
    expect(stageRootsOf(workDir, firstPid)).toEqual([stageRoot]);
    const survivors = [...new Set(groupProcesses(groups))];
    expect(survivors.every((pid) => sandbox.includes(pid))).toBe(true);

    const second = await startWorker(api);
    try {
      expect(second.output()).toMatch(/removed 1 staging dir\(s\) of dead workers, killed and removed \d+ job cgroup\(s\) of dead workers/);
      expect(groups.filter((group) => existsSync(group))).toEqual([]);
      expect(survivors.filter((pid) => existsSync(`/proc/${pid}`))).toEqual([]);
      expect(stageRootsOf(workDir, firstPid)).toEqual([]);
      // Nothing of it stays mounted either (a run's /output filesystem, where the host has one).
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(path.join(workDir, stageRoot));
      // Recovered as before: the job runs again, under the new worker's cgroup.
      const again = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== running.run_id, 30_000);
      expect(again.run_id).not.toBeNull();
      const regrouped = jobGroups(jobId);
      expect(regrouped.map((group) => path.basename(group).split('-').slice(-2, -1)[0])).toEqual(CONTROLLERS.map(() => String(second.process.pid)));
      await request(api.server).post(`/jobs/${jobId}/cancel`).set(auth('alice')).expect(202);
      await waitForJob(api, jobId, isFinished);
      // The status turns final a moment before the worker has torn the run down.
      for (let attempt = 0; attempt < 50 && jobGroups(jobId).length > 0; attempt++) await sleep(100);
      expect(jobGroups(jobId)).toEqual([]);
    } finally {
      await stopWorker(second);
    }
  });
});
