import { createServer as createHttpServer } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { Unavailable } from '@app/domain';
import { mlflowUri } from '../../../../test/mlflow';
import { trackingContract } from '../../../domain/test/contracts/tracking.contract';
import { MlflowTrackingAdapter } from './mlflow-tracking.adapter';

const api = `${mlflowUri()}/api/2.0/mlflow`;

async function mlflow<T>(path: string, body?: object): Promise<T> {
  const response = await fetch(`${api}/${path}`, body ? { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : undefined);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function uniqueName(label: string): string {
  return `adapter-${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A port nothing listens on: bind an ephemeral one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('MlflowTrackingAdapter (real MLflow)', () => {
  const adapter = new MlflowTrackingAdapter({ trackingUri: mlflowUri() });

  beforeAll(async () => {
    if (!(await adapter.ping())) throw new Error(`no MLflow server answers at ${mlflowUri()}: start one with scripts/start-mlflow.sh`);
  });

  trackingContract(async () => adapter);

  it('puts the artifact where artifacts/list of the run finds it', async () => {
    const { runId } = await adapter.startRun(uniqueName('artifacts'), 'run', {});
    await adapter.logArtifact(runId, 'reports/summary v1.json', new TextEncoder().encode('{"auroc":0.9}'));
    const listing = await mlflow<{ files?: { path: string; file_size?: string | number }[] }>(`artifacts/list?run_id=${runId}&path=reports`);
    expect(listing.files).toEqual([{ path: 'reports/summary v1.json', is_dir: false, file_size: 13 }]);
  });

  it('sends the tags and the run name to MLflow', async () => {
    const { runId } = await adapter.startRun(uniqueName('tags'), 'job-42', { 'leadersboard.user': 'alice' });
    const { run } = await mlflow<{ run: { info: { run_name: string }; data: { tags: { key: string; value: string }[] } } }>(`runs/get?run_id=${runId}`);
    expect(run.info.run_name).toBe('job-42');
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'leadersboard.user', value: 'alice' }]));
  });

  it('restores a deleted experiment and starts the run in it', async () => {
    const name = uniqueName('deleted');
    const first = await adapter.startRun(name, 'before', {});
    await mlflow('experiments/delete', { experiment_id: first.experimentId });
    const second = await adapter.startRun(name, 'after', {});
    expect(second.experimentId).toBe(first.experimentId);
    expect((await adapter.getRun(second.runId))?.status).toBe('RUNNING');
    const { experiment } = await mlflow<{ experiment: { lifecycle_stage: string } }>(`experiments/get?experiment_id=${first.experimentId}`);
    expect(experiment.lifecycle_stage).toBe('active');
  });

  it('creates one experiment when several runs start at once under a new name', async () => {
    const name = uniqueName('race');
    const runs = await Promise.all(Array.from({ length: 4 }, (_, index) => adapter.startRun(name, `run-${index}`, {})));
    expect(new Set(runs.map((run) => run.experimentId)).size).toBe(1);
  });

  it('round-trips NaN metrics, which JSON cannot carry as numbers', async () => {
    const { runId } = await adapter.startRun(uniqueName('nan'), 'run', {});
    await adapter.logMetrics(runId, [{ key: 'diverged', value: Number.NaN }]);
    expect((await adapter.getRun(runId))?.metrics.diverged).toBeNaN();
  });

  it("raises a plain Error with MLflow's message for a request that is the caller's fault", async () => {
    const { runId } = await adapter.startRun(uniqueName('invalid'), 'run', {});
    const error = await adapter.logMetrics(runId, [{ key: 'k'.repeat(300), value: 1 }]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(Unavailable);
    expect((error as Error).message).toMatch(/HTTP 400.*250/);
  });

  it('raises Unavailable naming the URI when the server cannot be reached', async () => {
    const uri = `http://127.0.0.1:${await closedPort()}`;
    const down = new MlflowTrackingAdapter({ trackingUri: uri, retries: 2, retryDelayMs: 10 });
    const error = await down.startRun('exp', 'run', {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toContain(`MLflow tracking server at ${uri} is unreachable after 3 attempts`);
    expect(await down.ping()).toBe(false);
  });

  it('makes one run for a job even when runs/create times out after MLflow made the run', async () => {
    // A proxy that forwards every request at once but holds the answer to runs/create past the timeout.
    const proxy = createHttpServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', async () => {
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const answer = await fetch(`${mlflowUri()}${incoming.url}`, { method: incoming.method, body, headers: { 'content-type': 'application/json' } });
        const text = await answer.text();
        if (incoming.url?.includes('runs/create')) await new Promise((resolve) => setTimeout(resolve, 1500));
        outgoing.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const slow = new MlflowTrackingAdapter({ trackingUri: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, timeoutMs: 500, retries: 3, retryDelayMs: 10 });
      const experiment = uniqueName('timeout');
      const jobId = uniqueName('job');
      const run = await slow.startRun(experiment, jobId, { job_id: jobId });
      expect(await slow.startRun(experiment, jobId, { job_id: jobId })).toEqual(run);
      const { runs } = await mlflow<{ runs?: { info: { run_id: string } }[] }>('runs/search', {
        experiment_ids: [run.experimentId],
        filter: `tags.job_id = '${jobId}'`,
      });
      expect(runs?.map((found) => found.info.run_id)).toEqual([run.runId]);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
