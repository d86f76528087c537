import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { TrackingPort } from '@app/domain';
import { EXIT_3, FORK_BOMB, hangsWithGrandchild, LOGS_METRIC, LOGS_SKLEARN_MODEL, MEMORY_BOMB, SHOWS_ITSELF, SLEEPS, snoops, tampersWith } from './programs';
import { freePort, isFinished, jobStatus, runCode, RunningWorker, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real processes, real sandbox: runs take seconds, recovery tests tens of seconds.
jest.setTimeout(120_000);

// 'small' has room for real work (importing mlflow alone can take seconds on 2 busy cores);
// 'medium' is the tight class the timeout and memory tests use.
const LIMITS = { JOB_TIMEOUT_SMALL_S: '60', JOB_MEMORY_SMALL_MB: '1024', JOB_TIMEOUT_MEDIUM_S: '2', JOB_MEMORY_MEDIUM_MB: '256', JOB_PIDS_MAX: '64', JOB_STALL_S: '2', WORKER_CONCURRENCY: '2' };

function processAlive(marker: number): boolean {
  try {
    execFileSync('pgrep', ['-f', `sleep ${marker}`]);
    return true;
  } catch {
    return false;
  }
}

interface MlflowRunView {
  info: { status: string };
  data: { tags?: { key: string; value: string }[] };
}

async function mlflowRun(api: RunningApi, runId: string): Promise<MlflowRunView> {
  const response = await fetch(`${api.config.mlflowTrackingUri}/api/2.0/mlflow/runs/get?run_id=${runId}`);
  return ((await response.json()) as { run: MlflowRunView }).run;
}

describe('worker: sandboxed runs recorded in MLflow (real Redis, MLflow, sandbox)', () => {
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    api = await startApi({ ...LIMITS, RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '100' });
    // With an inherited fd, as the shell of `npm run stack` leaves one: it must not reach any job.
    worker = await startWorker(api, { LEADERBOARD_SECRET_PROBE: 'worker-secret-value' }, { inheritedFd: true });
  });
  afterAll(async () => {
    await stopWorker(worker);
    await api.close();
  });

  it('runs code with the merged config, lands its metrics in MLflow, and keeps log and output', async () => {
    const jobId = await runCode(api, { 'main.py': LOGS_METRIC, 'config.yaml': 'auroc: 0.5\nname: base\n' }, { config: { auroc: 0.87 } });
    const job = await waitForJob(api, jobId, isFinished);
    expect(job).toMatchObject({ status: 'completed', error_message: null });
    const results = await request(api.server).get(`/jobs/${jobId}/results`).set(auth('alice')).expect(200);
    expect(results.body.metrics).toEqual({ image_AUROC: 0.87 });
    expect((await mlflowRun(api, job.run_id!)).info.status).toBe('FINISHED');
    const logs = await request(api.server).get(`/jobs/${jobId}/logs`).set(auth('alice')).expect(200);
    expect(logs.text).toContain('config {"auroc": 0.87, "name": "base"}');
    expect(logs.text).toContain('done');
    expect(readFileSync(path.join(api.config.artifactRoot, jobId, 'done.txt'), 'utf8')).toBe('ok');
    const artifacts = await fetch(`${api.config.mlflowTrackingUri}/api/2.0/mlflow/artifacts/list?run_id=${job.run_id}&path=logs`).then((r) => r.json());
    expect(JSON.stringify(artifacts)).toContain('logs/job.log');
  });

  it('logs a scikit-learn model through the relay, params and metrics included', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': LOGS_SKLEARN_MODEL }), isFinished);
    const logs = (await request(api.server).get(`/jobs/${job.job_id}/logs`).set(auth('alice'))).text;
    expect({ status: job.status, error: job.error_message }).toEqual({ status: 'completed', error: null });
    expect(logs).toContain('logged model');
    const run = await api.app.get(TrackingPort).getRun(job.run_id!);
    expect(run).toMatchObject({ status: 'FINISHED', params: { max_iter: '300' }, metrics: { accuracy: expect.any(Number) } });
  });

  it('fails with the exit code and the last lines of stderr', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': EXIT_3 }), isFinished);
    expect(job.status).toBe('failed');
    expect(job.error_message).toMatch(/^exit code 3: .*ValueError: bad input shape/s);
    expect((await mlflowRun(api, job.run_id!)).info.status).toBe('FAILED');
  });

  it('kills a run at its timeout', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': SLEEPS }, { resource_class: 'medium' }), isFinished);
    expect(job).toMatchObject({ status: 'failed', error_message: 'timeout after 2 s' });
  });

  it('reports a memory bomb as out of memory', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': MEMORY_BOMB }, { resource_class: 'medium' }), isFinished);
    expect(job).toMatchObject({ status: 'failed', error_message: 'out of memory (limit 256 MiB)' });
  });

  it('reports a fork bomb as the process limit, and the machine stays usable', async () => {
    const job = await waitForJob(api, await runCode(api, { 'main.py': FORK_BOMB }), isFinished);
    expect(job).toMatchObject({ status: 'failed', error_message: 'process limit reached (at most 64 processes)' });
    const next = await waitForJob(api, await runCode(api, { 'main.py': EXIT_3 }, { config: { after: 'fork' } }), isFinished);
    expect(next.error_message).toContain('exit code 3');
  });

  it('cancels a running job: the process tree dies, the job ends cancelled, the run KILLED', async () => {
    const marker = 6101;
    const jobId = await runCode(api, { 'main.py': hangsWithGrandchild(marker) }, {}, 'cancel-running');
    await waitForJob(api, jobId, (job) => job.status === 'running');
    await sleep(1000);
    expect(processAlive(marker)).toBe(true);
    await request(api.server).post(`/jobs/${jobId}/cancel`).set(auth('alice')).expect(202);
    const job = await waitForJob(api, jobId, isFinished);
    expect(job.status).toBe('cancelled');
    for (let attempt = 0; attempt < 50 && (await mlflowRun(api, job.run_id!)).info.status !== 'KILLED'; attempt += 1) await sleep(100);
    expect((await mlflowRun(api, job.run_id!)).info.status).toBe('KILLED');
    expect(processAlive(marker)).toBe(false);
  });

  it('records a job that forges "exit 0" on its status channels, kills pid 1 and exits 7 as failed, its run FAILED', async () => {
    const forge = readFileSync(path.resolve(__dirname, '../../../libs/adapters/src/sandbox/testing/forge.py'), 'utf8');
    const job = await waitForJob(api, await runCode(api, { 'main.py': forge }), isFinished);
    const logs = (await request(api.server).get(`/jobs/${job.job_id}/logs`).set(auth('alice'))).text;
    expect(logs).toContain('"stolen_from_1": []');
    expect(job).toMatchObject({ status: 'failed', error_message: expect.stringMatching(/^exit code 7/) });
    expect((await mlflowRun(api, job.run_id!)).info.status).toBe('FAILED');
  });

  it('runs concurrent jobs as their slots\' own uids, with stdio as the only fds and at most 1024 open files', async () => {
    const jobs = await Promise.all(['a', 'b'].map((name) => runCode(api, { 'main.py': SHOWS_ITSELF }, { config: { name } })));
    const seen = [];
    for (const jobId of jobs) {
      expect(await waitForJob(api, jobId, isFinished)).toMatchObject({ status: 'completed' });
      const logs = (await request(api.server).get(`/jobs/${jobId}/logs`).set(auth('alice'))).text;
      seen.push(JSON.parse(logs.split('SELF ')[1].split('\n')[0]) as { uid: number; fds: number[]; nofile: number[] });
    }
    expect(seen.map((job) => job.uid).sort()).toEqual([200000, 200001]);
    for (const job of seen) expect(job).toMatchObject({ fds: [0, 1, 2], nofile: [1024, 1024] });
  });

  it('keeps hostile code away from other submissions, secrets and its own code', async () => {
    const other = await request(api.server).post('/submissions').set(auth('bob')).attach('files', Buffer.from('SECRET = 1'), 'main.py').expect(201);
    const otherDir = path.join(api.config.uploadRoot, other.body.submission_id, 'files');
    expect(existsSync(otherDir)).toBe(true);
    const job = await waitForJob(api, await runCode(api, { 'main.py': snoops(otherDir) }), isFinished);
    expect(job.status).toBe('completed');
    const logs = (await request(api.server).get(`/jobs/${job.job_id}/logs`).set(auth('alice'))).text;
    const report = JSON.parse(logs.split('REPORT ')[1]);
    expect(report.other_submission).toMatch(/^DENIED/);
    expect(report.shadow).toMatch(/^DENIED/);
    expect(report.write_submission).toMatch(/^DENIED/);
    expect(logs).not.toContain('worker-secret-value');
    expect(logs).not.toContain(api.env.REDIS_PREFIX);
  });

  it('keeps a job to its own MLflow run: no rewriting, reading or deleting another user\'s run', async () => {
    const victim = await api.app.get(TrackingPort).startRun(api.config.experimentName, 'victim', { user_id: 'bob' });
    await api.app.get(TrackingPort).logMetrics(victim.runId, [{ key: 'image_AUROC', value: 0.61 }]);
    const job = await waitForJob(api, await runCode(api, { 'main.py': tampersWith(victim.runId) }), isFinished);
    const logs = (await request(api.server).get(`/jobs/${job.job_id}/logs`).set(auth('alice'))).text;
    expect(job.status).toBe('completed');
    const report = JSON.parse(logs.split('REPORT ')[1]);
    for (const attempt of ['log_to_victim', 'read_victim', 'delete_victim', 'new_run', 'sign_as_bob', 'official_score']) {
      expect(report[attempt]).toMatch(/^DENIED .*refused by the LeadersBoard sandbox/);
    }
    expect(await api.app.get(TrackingPort).getRun(victim.runId)).toMatchObject({ status: 'RUNNING', metrics: { image_AUROC: 0.61 } });
    const own = await request(api.server).get(`/jobs/${job.job_id}/results`).set(auth('alice')).expect(200);
    expect(own.body.metrics).toEqual({ image_AUROC: 0.5 });
    expect((await mlflowRun(api, job.run_id!)).data.tags).toEqual(expect.arrayContaining([{ key: 'user_id', value: 'alice' }]));
  });
});

describe('worker: never loses or wedges a job', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi({ ...LIMITS, JOB_TIMEOUT_SMALL_S: '120', RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '100' });
  });
  afterAll(async () => {
    await api.close();
  });

  it('SIGTERM puts the running job back to pending, and the next worker runs it again', async () => {
    const first = await startWorker(api);
    const jobId = await runCode(api, { 'main.py': SLEEPS }, {}, 'sigterm');
    const running = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== null);
    expect(await stopWorker(first, 'SIGTERM')).toBe(0);
    expect(await jobStatus(api, jobId)).toMatchObject({ status: 'pending', run_id: null, error_message: null });
    expect((await mlflowRun(api, running.run_id!)).info.status).toBe('KILLED');

    const second = await startWorker(api);
    const again = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== null, 30_000);
    expect(again.run_id).not.toBe(running.run_id);
    await request(api.server).post(`/jobs/${jobId}/cancel`).set(auth('alice')).expect(202);
    await waitForJob(api, jobId, isFinished);
    await stopWorker(second);
  });

  it('after kill -9 the sandbox dies with the worker and the job is re-run within seconds', async () => {
    const marker = 6102;
    const first = await startWorker(api);
    const jobId = await runCode(api, { 'main.py': hangsWithGrandchild(marker) }, {}, 'kill-9');
    const running = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== null);
    await sleep(1000);
    expect(processAlive(marker)).toBe(true);
    await stopWorker(first, 'SIGKILL');
    for (let attempt = 0; attempt < 50 && processAlive(marker); attempt += 1) await sleep(100);
    expect(processAlive(marker)).toBe(false);

    const started = Date.now();
    const second = await startWorker(api);
    const again = await waitForJob(api, jobId, (job) => job.status === 'running' && job.run_id !== running.run_id, 30_000);
    expect(again.run_id).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await mlflowRun(api, running.run_id!)).info.status).toBe('FAILED');
    await request(api.server).post(`/jobs/${jobId}/cancel`).set(auth('alice')).expect(202);
    await waitForJob(api, jobId, isFinished);
    await stopWorker(second);
  });

  it('fails a job with a clear reason once MLflow has been down for INFRA_RETRY_WINDOW_S', async () => {
    const closedPort = await freePort();
    const worker = await startWorker(api, { MLFLOW_TRACKING_URI: `http://127.0.0.1:${closedPort}`, INFRA_RETRY_WINDOW_S: '2' });
    const job = await waitForJob(api, await runCode(api, { 'main.py': SLEEPS }, {}, 'mlflow-down'), isFinished, 90_000);
    expect(job.status).toBe('failed');
    expect(job.error_message).toMatch(new RegExp(`^MLflow was unavailable for \\d+ s \\(last error: .*127\\.0\\.0\\.1:${closedPort}.*unreachable.*\\); the job's code never ran$`));
    await stopWorker(worker);
  });
});

describe('worker: refuses to run code it cannot isolate', () => {
  let api: RunningApi;

  beforeAll(async () => {
    api = await startApi(LIMITS);
  });
  afterAll(async () => {
    await api.close();
  });

  it('refuses to start when the sandbox fails its self-check, and says why', async () => {
    await expect(startWorker(api, { PYTHON_BIN: '/nonexistent/venv/bin/python' })).rejects.toThrow(
      /the sandbox cannot run jobs: .*set SANDBOX=none to run code unsandboxed \(unsafe\)/,
    );
  });

  it('runs unsandboxed only when SANDBOX=none is set, warning loudly and in /healthz', async () => {
    const worker = await startWorker(api, { SANDBOX: 'none' });
    expect(worker.output()).toContain('SANDBOX=none: user code runs UNSANDBOXED');
    const health = await request(api.server).get('/healthz').expect(200);
    expect(health.body.warnings).toEqual([expect.stringMatching(/runs user code UNSANDBOXED \(SANDBOX=none\)$/)]);
    const job = await waitForJob(api, await runCode(api, { 'main.py': EXIT_3 }, {}, 'unsandboxed'), isFinished);
    expect(job.error_message).toContain('exit code 3');
    await stopWorker(worker);
  });
});
