import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { JobStatusPort } from '@app/domain';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { mlflowUri } from '../../../test/mlflow';
import { startMlflow, ThrowawayMlflow } from '../../../test/mlflow-server';
import { startRedisServer, stopRedisServer } from '../../../test/redis';
import { freePort, isFinished, jobStatus, JobView, runCode, RunningWorker, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real processes: a Redis restarted with its AOF, an MLflow stopped and started again, workers killed.
jest.setTimeout(180_000);

const ARGS = `import argparse
parser = argparse.ArgumentParser()
parser.add_argument('--config')
parser.add_argument('--output')
args = parser.parse_args()
`;

/** A few seconds of "work", then success: long enough to restart something under it. */
const sleeps = (seconds: number) => `${ARGS}import time, uuid
print('started', uuid.uuid4().hex, flush=True)
time.sleep(${seconds})
print('done', flush=True)
`;
const SLEEPS_2S = sleeps(2);

/**
 * How long MLflow stays stopped before it is started again. It is down until the restart answers
 * /health, which takes another 5-13 s on a busy 2-core host: 17-25 s in all (the issue asks for 20).
 */
const MLFLOW_STOPPED_MS = 12_000;

interface WireRun {
  info: { run_id: string; status: string };
}

/** The runs of the experiment that match an MLflow search filter. */
async function searchRuns(trackingUri: string, experimentName: string, filter: string): Promise<WireRun[]> {
  const api = `${trackingUri}/api/2.0/mlflow`;
  const found = await fetch(`${api}/experiments/get-by-name?${new URLSearchParams({ experiment_name: experimentName })}`);
  const { experiment } = (await found.json()) as { experiment: { experiment_id: string } };
  const search = await fetch(`${api}/runs/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ experiment_ids: [experiment.experiment_id], filter, max_results: 1000 }),
  });
  return ((await search.json()) as { runs?: WireRun[] }).runs ?? [];
}

async function health(api: RunningApi): Promise<{ status: number; checks: Record<string, { ok: boolean; detail: string }> }> {
  const response = await request(api.server).get('/healthz');
  return { status: response.status, checks: response.body.checks };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Queues a job, retrying while the API answers 503 (its Redis restarting). */
async function submit(api: RunningApi, program: string): Promise<string> {
  return until('the API to take a job', () => runCode(api, { 'main.py': program }), 20_000);
}

describe('platform faults: jobs ride out Redis and MLflow outages', () => {
  const experiment = `faults-${Date.now().toString(36)}`;
  let redisDir: string;
  let redisPort: number;
  let redis: ChildProcess;
  let mlflowDir: string;
  let mlflowPort: number;
  let mlflowStarting: Promise<ThrowawayMlflow>;
  let mlflow: ThrowawayMlflow | undefined;
  let api: RunningApi;
  const workers: RunningWorker[] = [];

  const workerEnv = (trackingUri: string, extra: Record<string, string> = {}) => ({
    MLFLOW_TRACKING_URI: trackingUri,
    LEADERBOARD_EXPERIMENT: experiment,
    WORKER_CONCURRENCY: '2',
    ...extra,
  });

  const expectOneFinishedRun = async (trackingUri: string, jobIds: string[]) => {
    for (const jobId of jobIds) {
      const runs = await searchRuns(trackingUri, experiment, `tags.job_id = '${jobId}'`);
      expect({ jobId, statuses: runs.map((run) => run.info.status) }).toEqual({ jobId, statuses: ['FINISHED'] });
    }
  };

  beforeAll(async () => {
    redisDir = mkdtempSync(path.join(tmpdir(), 'lb-faults-redis-'));
    mlflowDir = mkdtempSync(path.join(tmpdir(), 'lb-faults-mlflow-'));
    redisPort = await freePort();
    mlflowPort = await freePort();
    redis = await startRedisServer(redisPort, { aofDir: redisDir });
    // MLflow's first start (its migrations) takes a while: let it run while the Redis test uses the shared server.
    mlflowStarting = startMlflow(mlflowPort, mlflowDir, {});
    mlflowStarting.catch(() => undefined);
    api = await startApi({
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      MLFLOW_TRACKING_URI: `http://127.0.0.1:${mlflowPort}`,
      LEADERBOARD_EXPERIMENT: experiment,
      RATE_LIMIT_CONCURRENT_JOBS: '20',
      RATE_LIMIT_JOBS_PER_HOUR: '100',
    });
  });

  afterAll(async () => {
    for (const worker of workers) await stopWorker(worker, 'SIGKILL');
    await api?.close();
    await stopRedisServer(redis, 'SIGTERM');
    await (mlflow ?? (await mlflowStarting.catch(() => undefined)))?.stop();
    rmSync(redisDir, { recursive: true, force: true });
    rmSync(mlflowDir, { recursive: true, force: true });
  });

  it('completes every job through a Redis restart mid-run and another between runs, one FINISHED run each', async () => {
    const worker = await startWorker(api, workerEnv(mlflowUri()));
    workers.push(worker);
    const jobIds: string[] = [];
    for (let index = 0; index < 5; index += 1) jobIds.push(await submit(api, SLEEPS_2S));
    await until('a job to run', async () => (await jobStatus(api, jobIds[0])).status === 'running');

    // Mid-run: the first two jobs are running, three are queued.
    await stopRedisServer(redis, 'SIGTERM');
    expect((await health(api)).checks.redis.ok).toBe(false);
    await sleep(2000);
    redis = await startRedisServer(redisPort, { aofDir: redisDir });
    await until('/healthz to see Redis again', async () => (await health(api)).checks.redis.ok);

    // Between runs: once a job has finished while others still wait.
    await until('a job to complete', async () => (await Promise.all(jobIds.map((id) => jobStatus(api, id)))).some((job) => job.status === 'completed'));
    await stopRedisServer(redis, 'SIGTERM');
    await sleep(2000);
    redis = await startRedisServer(redisPort, { aofDir: redisDir });
    // The API takes new jobs again without being restarted.
    jobIds.push(await submit(api, SLEEPS_2S));

    const finished: JobView[] = [];
    for (const jobId of jobIds) finished.push(await waitForJob(api, jobId, isFinished, 60_000));
    expect(finished.map((job) => [job.job_id, job.status, job.error_message])).toEqual(jobIds.map((id) => [id, 'completed', null]));
    await expectOneFinishedRun(mlflowUri(), jobIds);
    await stopWorker(worker);
  });

  it('completes jobs that start and finish while MLflow is down, a worker killed mid-finishing included', async () => {
    mlflow = await mlflowStarting;
    const first = await startWorker(api, workerEnv(mlflow.uri, { JOB_STALL_S: '3' }));
    workers.push(first);
    // Long enough for MLflow to be stopped before its code ends.
    const killed = await submit(api, sleeps(4));
    // The record names the run just before the code starts.
    const started = await until('the job to start its code', async () => {
      const job = await jobStatus(api, killed);
      return job.status === 'running' && job.run_id !== null && (job as JobView & { started_at: string });
    });

    await mlflow.stop();
    const outageStarted = Date.now();
    const down = await health(api);
    expect(down.status).toBe(503);
    expect(down.checks.mlflow.ok).toBe(false);
    expect(down.checks.redis.ok).toBe(true);
    // These start while MLflow is down: they wait in the queue, pending, instead of failing.
    const late = [await submit(api, SLEEPS_2S), await submit(api, SLEEPS_2S)];

    // The first job's code has finished; its worker dies while it retries the run's finishing writes.
    await until('the worker to retry a finishing write', async () => first.output().includes(`job ${killed}: MLflow unavailable while trying to`), 20_000);
    await stopWorker(first, 'SIGKILL');
    const second = await startWorker(api, workerEnv(mlflow.uri, { JOB_STALL_S: '3' }));
    workers.push(second);
    const retried = (jobId: string) => `${first.output()}${second.output()}`.includes(`job ${jobId}: MLflow unavailable (`);
    await until('the late jobs to be sent back to the queue', async () => late.every(retried), 20_000);
    for (const jobId of late) expect((await jobStatus(api, jobId)).status).toMatch(/pending|running/);

    await sleep(Math.max(0, outageStarted + MLFLOW_STOPPED_MS - Date.now()));
    mlflow = await startMlflow(mlflowPort, mlflowDir, {});
    await until('/healthz to recover', async () => (await health(api)).status === 200, 30_000);

    const jobIds = [killed, ...late];
    const finished: JobView[] = [];
    for (const jobId of jobIds) finished.push(await waitForJob(api, jobId, isFinished, 90_000));
    expect(finished.map((job) => [job.job_id, job.status, job.error_message])).toEqual(jobIds.map((id) => [id, 'completed', null]));
    await expectOneFinishedRun(mlflow.uri, jobIds);
    // The code ran once: a second run would have made a second MLflow run and a new start time.
    const after = (await request(api.server).get(`/jobs/${killed}/status`).set(auth('alice')).expect(200)).body;
    expect(after.started_at).toBe(started.started_at);
    expect(after.run_id).toBe(started.run_id);
    expect(second.output()).toContain(`job ${killed}: MLflow unavailable while trying to`);
    await stopWorker(second);
  });

  it('fails a job only after INFRA_RETRY_WINDOW_S of MLflow being down, naming MLflow and the time', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const worker = await startWorker(api, workerEnv(nowhere, { INFRA_RETRY_WINDOW_S: '4' }));
    workers.push(worker);
    const jobId = await submit(api, SLEEPS_2S);
    const job = await waitForJob(api, jobId, isFinished, 30_000);
    expect(job.status).toBe('failed');
    expect(job.error_message).toMatch(
      new RegExp(`^MLflow was unavailable for ([4-9]|1\\d) s \\(last error: MLflow tracking server at ${nowhere.replace(/\./g, '\\.')} is unreachable .*\\); the job's code never ran$`),
    );
    expect(worker.output()).toMatch(new RegExp(`job ${jobId}: MLflow unavailable .*retry 1 in 1000 ms`));
    await stopWorker(worker);
  });

  it('leaves nothing behind: no job stuck running, no run left RUNNING', async () => {
    const unfinished = await api.app.get(JobStatusPort).listUnfinished();
    expect(unfinished).toEqual([]);
    for (const trackingUri of [mlflow!.uri, mlflowUri()]) {
      expect(await searchRuns(trackingUri, experiment, "attributes.status = 'RUNNING'")).toEqual([]);
    }
  });
});
