import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readScrape, Sample, valueOf } from '../../../test/prometheus';
import { RunningApi, startApi } from '../../api/test/harness';
import { EXIT_3 } from './programs';
import { freePort, isFinished, runCode, RunningWorker, startWorker, stopWorker, waitForJob } from './worker-harness';

jest.setTimeout(120_000);

const METRICS_TOKEN = 'metrics-token-for-the-workers-0123';
const DASHBOARD = path.resolve(__dirname, '../../../docker/grafana-dashboard.json');

/** Every metric name a dashboard query reads (ours and the process metrics). */
function dashboardMetricNames(): Set<string> {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'expr' && typeof value === 'string') for (const match of value.matchAll(/\b(?:leaderboard|process|nodejs)_[a-z0-9_]+/g)) names.add(match[0]);
        else visit(value);
      }
    }
  };
  visit(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
  return names;
}

describe('worker metrics and logs (real worker process, sandbox, Redis, MLflow)', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let port: number;

  beforeAll(async () => {
    api = await startApi({ METRICS_TOKEN, WORKER_CONCURRENCY: '2', JOB_TIMEOUT_SMALL_S: '60', JOB_MEMORY_SMALL_MB: '1024', RATE_LIMIT_CONCURRENT_JOBS: '10' });
    port = await freePort();
    worker = await startWorker(api, { WORKER_METRICS_PORT: String(port) });
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await api?.close();
  });

  async function scrapeWorker(): Promise<Map<string, Sample[]>> {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    return readScrape(await response.text()).samples;
  }
  async function scrapeApi(): Promise<Map<string, Sample[]>> {
    const response = await fetch(`${api.url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    return readScrape(await response.text()).samples;
  }

  it('takes only METRICS_TOKEN on its port, and only /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: 'Bearer some-other-token-value' } })).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${port}/other`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
    const idle = await scrapeWorker();
    expect(valueOf(idle, 'leaderboard_worker_slots')).toBe(2);
    expect(valueOf(idle, 'leaderboard_worker_busy_slots')).toBe(0);
  });

  it('counts each run by outcome with its duration, the wait in the queue, and frees the slot', async () => {
    const before = await scrapeWorker();
    const completed = await runCode(api, { 'main.py': 'print("hello from the job")\n' });
    const failed = await runCode(api, { 'main.py': EXIT_3 });
    expect((await waitForJob(api, completed, isFinished)).status).toBe('completed');
    expect((await waitForJob(api, failed, isFinished)).status).toBe('failed');
    // The status turns final before the run's timer stops: give the worker a moment.
    let after = await scrapeWorker();
    for (let i = 0; i < 50 && valueOf(after, 'leaderboard_job_run_duration_seconds_count', { outcome: 'failed' }) === valueOf(before, 'leaderboard_job_run_duration_seconds_count', { outcome: 'failed' }); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = await scrapeWorker();
    }
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('leaderboard_job_run_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(delta('leaderboard_job_run_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(delta('leaderboard_job_run_duration_seconds_sum', { outcome: 'completed' })).toBeGreaterThan(0);
    expect(delta('leaderboard_job_wait_seconds_count')).toBe(2);
    expect(valueOf(after, 'leaderboard_worker_busy_slots')).toBe(0);
    // The user's code failing is not the sandbox failing.
    expect(delta('leaderboard_sandbox_failures_total', { kind: 'sandbox_error' })).toBe(0);
    // The API sees them final: nothing pending or running is left.
    const apiSamples = await scrapeApi();
    expect(valueOf(apiSamples, 'leaderboard_jobs', { state: 'pending' }) + valueOf(apiSamples, 'leaderboard_jobs', { state: 'running' })).toBe(0);
    expect(valueOf(apiSamples, 'leaderboard_queue_jobs', { state: 'waiting' })).toBe(0);

    // Every line the worker wrote is JSON; the lines written while a job ran carry its id.
    const lines = worker
      .output()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.job_id === completed && line.msg === 'run started')).toMatchObject({ service: 'worker', context: 'Job', level: 'info' });
    expect(lines.find((line) => line.job_id === failed && String(line.msg).startsWith('run ended: failed after'))).toBeDefined();
    expect(lines.some((line) => String(line.msg).startsWith('consuming with 2 slot(s)'))).toBe(true);
  });

  it('has every metric the Grafana dashboard reads', async () => {
    const scraped = new Set([...(await scrapeWorker()).keys(), ...(await scrapeApi()).keys()]);
    const used = [...dashboardMetricNames()];
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((name) => !scraped.has(name))).toEqual([]);
  });
});
