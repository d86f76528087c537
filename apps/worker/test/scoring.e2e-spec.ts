import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { freePort, isFinished, runCode, RunningWorker, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real worker, real sandboxes (job and scorer), real MLflow and Redis.
jest.setTimeout(180_000);

const SECRET_LABEL = 'reference-label-7f3a9c';

/** A tiny benchmark: the score is the number in predictions.txt; some values make the scorer misbehave. */
const SCORER = `import argparse, json, os, sys, time
parser = argparse.ArgumentParser()
parser.add_argument('--predictions'); parser.add_argument('--reference'); parser.add_argument('--output')
args = parser.parse_args()
open(os.path.join(args.reference, 'labels.txt')).read()
path = os.path.join(args.predictions, 'predictions.txt')
if not os.path.exists(path):
    sys.exit('no predictions.txt in the output dir (files there: %s)' % ', '.join(sorted(os.listdir(args.predictions))))
text = open(path).read().strip()
if text == 'crash':
    raise RuntimeError('scorer crashed on purpose')
if text == 'hang':
    time.sleep(600)
out = os.path.join(args.output, 'scores.json')
if text == 'not-json':
    open(out, 'w').write('{oops'); sys.exit(0)
if text == 'no-metric':
    json.dump({'other': 1}, open(out, 'w')); sys.exit(0)
if text == 'nan':
    open(out, 'w').write('{"auc": NaN}'); sys.exit(0)
if text == 'silent':
    sys.exit(0)
try:
    value = float(text)
except ValueError:
    sys.exit('predictions.txt: %r is not a number' % text[:40])
json.dump({'auc': value, 'ap': value / 2}, open(out, 'w'))
`;

const YAML = `title: Tiny
description: Write predictions.txt holding one number.
metric: auc
order: desc
secondary: [ap]
scorer:
  timeout_s: 5
  memory_mb: 512
`;

const ARGS = `import argparse, os
parser = argparse.ArgumentParser()
parser.add_argument('--config'); parser.add_argument('--output')
args = parser.parse_args()
`;

/** Predicts `value`, after looking for the hidden labels everywhere it might reach them. */
function predicts(value: string, referenceHostDir: string, extra = ''): string {
  return `${ARGS}import glob
data = os.environ['LEADERBOARD_DATA_DIR']
print('data', data, sorted(os.listdir(data)), open(os.path.join(data, 'train.txt')).read().strip(), flush=True)
for candidate in [${JSON.stringify(path.join(referenceHostDir, 'labels.txt'))}, '/reference/labels.txt', os.path.join(data, '..', 'reference', 'labels.txt')]:
    try:
        print('LEAK', open(candidate).read(), flush=True)
    except OSError as error:
        print('no access:', type(error).__name__, flush=True)
try:
    open(os.path.join(data, 'new.txt'), 'w').write('x')
    print('WROTE DATA', flush=True)
except OSError as error:
    print('data is read-only:', type(error).__name__, flush=True)
${extra}
open(os.path.join(args.output, 'predictions.txt'), 'w').write(${JSON.stringify(value)})
`;
}

const SELF_REPORTS = `
import mlflow
with mlflow.start_run():
    mlflow.log_metric('auc', 1e9)
    for key in ['leaderboard.auc', 'LEADERBOARD.auc', ' leaderboard.auc']:
        try:
            mlflow.log_metric(key, 1e9)
            print('LOGGED', key, flush=True)
        except Exception as error:
            print('refused', repr(key), '403' in str(error) or 'PERMISSION_DENIED' in str(error), flush=True)
`;

describe('worker: benchmarks scored by a trusted scorer in its own sandbox', () => {
  let benchmarks: string;
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    benchmarks = await mkdtemp(path.join(tmpdir(), 'lb-benchmarks-'));
    const dir = path.join(benchmarks, 'tiny');
    await mkdir(path.join(dir, 'public'), { recursive: true });
    await mkdir(path.join(dir, 'reference'), { recursive: true });
    await writeFile(path.join(dir, 'benchmark.yaml'), YAML);
    await writeFile(path.join(dir, 'score.py'), SCORER);
    await writeFile(path.join(dir, 'public', 'train.txt'), 'public-train-data\n');
    await writeFile(path.join(dir, 'reference', 'labels.txt'), `${SECRET_LABEL}\n`);
    // A broken folder next to it: reported at start, never fatal.
    await mkdir(path.join(benchmarks, 'broken'));
    await writeFile(path.join(benchmarks, 'broken', 'benchmark.yaml'), 'title: [unclosed\n');
    api = await startApi({ BENCHMARKS_DIR: benchmarks, RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '100' });
    worker = await startWorker(api, { JOB_TIMEOUT_SMALL_S: '60', JOB_MEMORY_SMALL_MB: '1024', WORKER_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    await stopWorker(worker);
    await api.close();
    await rm(benchmarks, { recursive: true, force: true });
  });

  it('reports a broken benchmark folder at start with one line naming the file, and keeps going', async () => {
    expect(worker.output()).toMatch(/benchmark broken is unavailable: .*broken\/benchmark\.yaml/);
    const listed = (await request(api.server).get('/benchmarks').set(auth('bob')).expect(200)).body.benchmarks;
    expect(listed.map((b: { id: string; available: boolean }) => [b.id, b.available])).toEqual([
      ['broken', false],
      ['tiny', true],
    ]);
    const submission = await request(api.server).post('/submissions').set(auth('alice')).attach('files', Buffer.from('print(1)\n'), 'main.py').expect(201);
    const refused = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submission.body.submission_id, benchmark: 'broken' }).expect(400);
    expect(refused.body.message).toContain('benchmark broken is unavailable: benchmark.yaml');
  });

  const reference = () => path.join(benchmarks, 'tiny', 'reference');
  const board = async (as: 'alice' | 'bob' = 'bob', query = '') =>
    (await request(api.server).get(`/benchmarks/tiny/leaderboard${query}`).set(auth(as)).expect(200)).body;

  async function submit(program: string, user: 'alice' | 'bob' = 'alice'): Promise<string> {
    if (user === 'alice') return runCode(api, { 'main.py': program }, { benchmark: 'tiny' });
    const submission = await request(api.server).post('/submissions').set(auth('bob')).attach('files', Buffer.from(program), 'main.py').expect(201);
    const job = await request(api.server).post('/jobs').set(auth('bob')).send({ submission_id: submission.body.submission_id, benchmark: 'tiny' }).expect(202);
    return job.body.job_id;
  }

  async function logOf(jobId: string, user: 'alice' | 'bob' = 'alice'): Promise<string> {
    return (await request(api.server).get(`/jobs/${jobId}/logs`).set(auth(user)).expect(200)).text;
  }

  it('scores a job that saw /data but never the reference, and records the official scores everywhere', async () => {
    const jobId = await submit(predicts('0.75', reference()));
    const job = await waitForJob(api, jobId, isFinished);
    expect(job).toMatchObject({ status: 'completed', error_message: null });
    const log = await logOf(jobId);
    expect(log).toContain("data /data ['train.txt'] public-train-data");
    expect(log).not.toContain('LEAK');
    expect(log).not.toContain(SECRET_LABEL);
    expect(log.match(/no access:/g)).toHaveLength(3);
    expect(log).toContain('data is read-only');
    const results = (await request(api.server).get(`/jobs/${jobId}/results`).set(auth('alice')).expect(200)).body;
    expect(results).toMatchObject({ benchmark: 'tiny', scores: { auc: 0.75, ap: 0.375 }, reported_metrics: {} });
    const run = (await (await fetch(`${api.config.mlflowTrackingUri}/api/2.0/mlflow/runs/get?run_id=${job.run_id}`)).json()) as { run: { data: { metrics: { key: string; value: number }[] } } };
    const metrics = Object.fromEntries(run.run.data.metrics.map((metric) => [metric.key, metric.value]));
    expect(metrics).toMatchObject({ 'leaderboard.auc': 0.75, 'leaderboard.ap': 0.375 });
    expect((await board()).rows).toEqual([expect.objectContaining({ rank: 1, user_id: 'alice', job_id: jobId, score: 0.75, secondary: { ap: 0.375 } })]);
  });

  it('ranks the scorer, not a job that shouts a huge number or writes the reserved keys (the relay refuses them)', async () => {
    const shouter = await submit(predicts('0.1', reference(), SELF_REPORTS), 'bob');
    const job = await waitForJob(api, shouter, isFinished, 60_000, 'bob');
    expect(job.status).toBe('completed');
    const log = await logOf(shouter, 'bob');
    expect(log).not.toContain('LOGGED');
    expect(log.match(/refused .* True/g)).toHaveLength(3);
    const results = (await request(api.server).get(`/jobs/${shouter}/results`).set(auth('bob')).expect(200)).body;
    expect(results).toMatchObject({ scores: { auc: 0.1 }, reported_metrics: { auc: 1e9 } });
    const rows = (await board('bob')).rows;
    expect(rows.map((row: { user_id: string; score: number }) => [row.user_id, row.score])).toEqual([
      ['alice', 0.75],
      ['bob', 0.1],
    ]);
  });

  it.each([
    ['no predictions', `${ARGS}open(os.path.join(args.output, 'other.csv'), 'w').write('x')`, /^scoring failed: exit code 1: no predictions\.txt in the output dir \(files there: other\.csv\)/],
    ['malformed predictions', predicts('abc', '/nowhere'), /^scoring failed: exit code 1: predictions\.txt: 'abc' is not a number/],
    ['a scorer crash', predicts('crash', '/nowhere'), /^scoring failed: exit code 1: .*RuntimeError: scorer crashed on purpose/s],
    ['a scorer timeout', predicts('hang', '/nowhere'), /^scoring failed: timeout after 5 s$/],
    ['invalid scores.json', predicts('not-json', '/nowhere'), /^scoring failed: scores\.json is not valid JSON/],
    ['scores without the metric', predicts('no-metric', '/nowhere'), /^scoring failed: scores\.json has no "auc", the benchmark's metric$/],
    ['a non-finite score', predicts('nan', '/nowhere'), /^scoring failed: scores\.json is not valid JSON/],
    ['no scores.json', predicts('silent', '/nowhere'), /^scoring failed: the scorer wrote no scores\.json$/],
  ])('fails the job truthfully on %s and ranks nothing', async (_case, program, message) => {
    const jobId = await submit(program);
    const job = await waitForJob(api, jobId, isFinished, 90_000);
    expect(job.status).toBe('failed');
    expect(job.error_message).toMatch(message);
    expect(job.error_message).not.toContain(SECRET_LABEL);
    const all = (await board('alice', '?all=true')).rows as { job_id: string }[];
    expect(all.map((row) => row.job_id)).not.toContain(jobId);
  });

  it('answers from the snapshot: MLflow edits and MLflow being down move nothing; bob still cannot read alice\'s job', async () => {
    const before = await board('bob', '?all=true');
    const aliceRow = before.rows.find((row: { user_id: string }) => row.user_id === 'alice');
    // Someone with MLflow access rewrites the official metric on the run itself.
    await fetch(`${api.config.mlflowTrackingUri}/api/2.0/mlflow/runs/log-metric`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ run_id: (await request(api.server).get(`/jobs/${aliceRow.job_id}/status`).set(auth('alice'))).body.run_id, key: 'leaderboard.auc', value: 99, timestamp: Date.now() }),
    });
    expect(await board('bob', '?all=true')).toEqual(before);
    // A second API on the same Redis whose MLflow is gone answers the same board.
    const blind = await startApi({ ...api.env, MLFLOW_TRACKING_URI: `http://127.0.0.1:${await freePort()}`, MLFLOW_PUBLIC_URI: api.config.mlflowPublicUri });
    try {
      const again = await request(blind.server).get('/benchmarks/tiny/leaderboard?all=true').set(auth('bob')).expect(200);
      expect(again.body).toEqual(before);
    } finally {
      await blind.close();
    }
    await request(api.server).get(`/jobs/${aliceRow.job_id}/logs`).set(auth('bob')).expect(403);
    await request(api.server).get(`/jobs/${aliceRow.job_id}/results`).set(auth('bob')).expect(403);
  });
});
