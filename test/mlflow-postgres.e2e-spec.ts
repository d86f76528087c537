import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../apps/api/test/harness';
import { LOGS_METRIC } from '../apps/worker/test/programs';
import { freePort, isFinished, runCode, RunningWorker, startWorker, stopWorker, waitForJob } from '../apps/worker/test/worker-harness';
import { startMlflow, ThrowawayMlflow } from './mlflow-server';
import { createScratchDatabase, psql, ScratchDatabase } from './postgres';

// MLflow's first start on an empty database runs its migrations (~20 s on 2 cores), then a job.
jest.setTimeout(120_000);

const WORKERS = 2;

/** uvicorn's worker processes in the server's process group. */
function serverWorkers(groupPid: number): number {
  const processes = execFileSync('ps', ['-o', 'args=', '-g', String(groupPid)], { encoding: 'utf8' });
  return processes.split('\n').filter((args) => args.includes('spawn_main')).length;
}

describe('MLflow on PostgreSQL with several server workers (real PostgreSQL, MLflow, Redis, worker)', () => {
  let database: ScratchDatabase | undefined;
  let sharedDir: string | undefined;
  let mlflow: ThrowawayMlflow | undefined;
  let api: RunningApi | undefined;
  let worker: RunningWorker | undefined;

  beforeAll(async () => {
    database = await createScratchDatabase('lb_mlflow_test');
    sharedDir = mkdtempSync(path.join(tmpdir(), 'lb-mlflow-pg-'));
    chmodSync(sharedDir, 0o755);
    mlflow = await startMlflow(await freePort(), sharedDir, { MLFLOW_BACKEND_STORE_URI: database.url, MLFLOW_WORKERS: String(WORKERS) });
    api = await startApi({ MLFLOW_TRACKING_URI: mlflow.uri, JOB_TIMEOUT_SMALL_S: '60', JOB_MEMORY_SMALL_MB: '1024' });
    worker = await startWorker(api);
  });

  // Every step runs even when an earlier one failed, so the database and role never stay behind.
  afterAll(async () => {
    const steps: (() => Promise<unknown>)[] = [
      async () => worker && (await stopWorker(worker)),
      async () => api?.close(),
      async () => mlflow?.stop(),
      async () => database?.drop(),
      async () => sharedDir && rmSync(sharedDir, { recursive: true, force: true }),
    ];
    const errors: unknown[] = [];
    for (const step of steps) await step().catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  });

  it('serves with the workers asked for, its tables in the new database', async () => {
    expect(serverWorkers(mlflow!.pid)).toBe(WORKERS);
    const tables = (await psql(database!.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).flat();
    expect(tables).toEqual(expect.arrayContaining(['experiments', 'runs', 'metrics', 'alembic_version']));
  });

  it('runs a job whose run and metric land in PostgreSQL and come back as its results', async () => {
    const jobId = await runCode(api!, { 'main.py': LOGS_METRIC, 'config.yaml': 'auroc: 0.91\n' });
    const job = await waitForJob(api!, jobId, isFinished);
    expect({ status: job.status, error: job.error_message }).toEqual({ status: 'completed', error: null });

    const runs = await psql(database!.url, `SELECT status FROM runs WHERE run_uuid = '${job.run_id}'`);
    expect(runs).toEqual([['FINISHED']]);
    const metrics = await psql(database!.url, `SELECT key, value FROM metrics WHERE run_uuid = '${job.run_id}'`);
    expect(metrics).toEqual([['image_AUROC', '0.91']]);

    const results = await request(api!.server).get(`/jobs/${jobId}/results`).set(auth('alice')).expect(200);
    expect(results.body.metrics).toEqual({ image_AUROC: 0.91 });
  });
});
