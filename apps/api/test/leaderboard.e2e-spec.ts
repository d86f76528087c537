import request from 'supertest';
import { BullMqJobQueueAdapter } from '@app/adapters';
import { BoardEntry, JobQueuePort, JobStatusPort, LeaderboardPort, NewJob, TrackingPort } from '@app/domain';
import { BenchmarkFixture, writeBenchmarkFixture } from './benchmark-fixture';
import { auth, RunningApi, startApi } from './harness';

const KNOWN = 'known benchmarks: alpha, broken, delta, errors, gamma';
const at = (minute: number) => `2026-01-05T10:${String(minute).padStart(2, '0')}:00.000Z`;

describe('benchmarks and leaderboards (real app, real Redis, real MLflow)', () => {
  let fixture: BenchmarkFixture;
  let api: RunningApi;
  let board: LeaderboardPort;
  let base: string;

  beforeAll(async () => {
    fixture = await writeBenchmarkFixture();
    api = await startApi({ BENCHMARKS_DIR: fixture.dir, RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '1000' });
    board = api.app.get(LeaderboardPort);
    base = api.config.mlflowPublicUri.replace(/\/+$/, '');
    const entry = (jobId: string, userId: string, scores: Record<string, number>, minute: number, run?: [string, string]): BoardEntry => ({
      benchmarkId: 'alpha',
      jobId,
      userId,
      submissionId: `sub-${jobId}`,
      score: scores.auroc,
      scores,
      finishedAt: at(minute),
      runId: run ? run[1] : null,
      experimentId: run ? run[0] : null,
    });
    for (const seeded of [
      entry('a1', 'alice', { auroc: 0.8, ap: 0.7, f1: 0.6 }, 1),
      entry('a2', 'alice', { auroc: 0.9, ap: 0.75 }, 2),
      entry('b1', 'bob', { auroc: 0.9, ap: 0.5, f1: 0.4 }, 3),
      entry('c1', 'carol', { auroc: 0.7, ap: 0.2, f1: 0.1 }, 1, ['7', 'run-c1']),
      entry('d1', 'dave', { auroc: 0.95, ap: 0.9, f1: 0.8 }, 4),
    ]) {
      await board.record(seeded, 'desc');
    }
  });
  afterAll(async () => {
    await api?.close();
    await fixture?.remove();
  });

  const get = (path: string, user: 'alice' | 'bob' | 'admin' = 'alice') => request(api.server).get(path).set(auth(user));
  const ids = (body: { rows: Array<{ job_id: string }> }) => body.rows.map((row) => row.job_id);

  async function submit(user: 'alice' | 'bob' = 'alice'): Promise<string> {
    const response = await request(api.server).post('/submissions').set(auth(user)).attach('files', Buffer.from('print(1)'), 'main.py').expect(201);
    return response.body.submission_id;
  }

  it('lists every benchmark sorted by id, the invalid folder as unavailable with its problem, and the board sizes', async () => {
    const response = await get('/benchmarks').expect(200);
    expect(response.body.benchmarks.map((listed: { id: string }) => listed.id)).toEqual(['alpha', 'broken', 'delta', 'errors', 'gamma']);
    expect(response.body.benchmarks[0]).toEqual({
      id: 'alpha',
      title: 'Alpha',
      description: 'Score every image.',
      metric: 'auroc',
      order: 'desc',
      secondary: ['ap', 'f1'],
      available: true,
      problem: null,
      ranked_users: 4,
      ranked_jobs: 5,
    });
    expect(response.body.benchmarks[1]).toEqual({
      id: 'broken',
      title: null,
      description: null,
      metric: null,
      order: null,
      secondary: null,
      available: false,
      problem: expect.stringContaining('metric'),
      ranked_users: 0,
      ranked_jobs: 0,
    });
    expect(response.body.benchmarks[1].problem).toContain('benchmark.yaml');
  });

  it('ranks each user\'s best job by default and every job with all=true; a tie goes to the earlier finish', async () => {
    const best = await get('/benchmarks/alpha/leaderboard').expect(200);
    expect(best.body).toMatchObject({
      benchmark: { id: 'alpha', title: 'Alpha', metric: 'auroc', order: 'desc', secondary: ['ap', 'f1'], available: true },
      all: false,
      offset: 0,
      limit: 50,
      total: 4,
    });
    expect(ids(best.body)).toEqual(['d1', 'a2', 'b1', 'c1']);
    expect(best.body.rows.map((row: { rank: number }) => row.rank)).toEqual([1, 2, 3, 4]);
    expect(best.body.rows[1]).toEqual({
      rank: 2,
      user_id: 'alice',
      job_id: 'a2',
      submission_id: 'sub-a2',
      score: 0.9,
      secondary: { ap: 0.75, f1: null },
      finished_at: at(2),
      mlflow_run_link: null,
    });
    expect(best.body.rows[3].mlflow_run_link).toBe(`${base}/#/experiments/7/runs/run-c1`);

    const all = await get('/benchmarks/alpha/leaderboard?all=true').expect(200);
    expect(all.body).toMatchObject({ all: true, total: 5 });
    expect(ids(all.body)).toEqual(['d1', 'a2', 'b1', 'a1', 'c1']);
    expect((await get('/benchmarks/alpha/leaderboard?all=false').expect(200)).body.total).toBe(4);
  });

  it('ranks an asc benchmark lowest first', async () => {
    for (const [jobId, userId, errorRate] of [['e1', 'eve', 0.1], ['f1', 'frank', 0.05], ['g1', 'gina', 0.2], ['e2', 'eve', 0.3]] as const) {
      await board.record(
        { benchmarkId: 'errors', jobId, userId, submissionId: 's', score: errorRate, scores: { error_rate: errorRate }, finishedAt: at(1), runId: null, experimentId: null },
        'asc',
      );
    }
    const response = await get('/benchmarks/errors/leaderboard').expect(200);
    expect(response.body.rows.map((row: { job_id: string; score: number }) => [row.job_id, row.score])).toEqual([['f1', 0.05], ['e1', 0.1], ['g1', 0.2]]);
    expect(response.body.rows[0].secondary).toEqual({});
    expect(ids((await get('/benchmarks/errors/leaderboard?all=true').expect(200)).body)).toEqual(['f1', 'e1', 'g1', 'e2']);
  });

  it('pages with limit and offset, keeping ranks and the total', async () => {
    const page = await get('/benchmarks/alpha/leaderboard?limit=2&offset=1').expect(200);
    expect(page.body).toMatchObject({ offset: 1, limit: 2, total: 4 });
    expect(page.body.rows.map((row: { job_id: string; rank: number }) => [row.rank, row.job_id])).toEqual([[2, 'a2'], [3, 'b1']]);
    const allPage = await get('/benchmarks/alpha/leaderboard?all=true&limit=2&offset=3').expect(200);
    expect(allPage.body.rows.map((row: { job_id: string; rank: number }) => [row.rank, row.job_id])).toEqual([[4, 'a1'], [5, 'c1']]);
    const past = await get('/benchmarks/alpha/leaderboard?offset=1000000&limit=1000').expect(200);
    expect(past.body).toMatchObject({ total: 4, rows: [] });
  });

  it('exports the same rows as CSV: a header with the secondary metrics, numbers as numbers, an attachment', async () => {
    const response = await get('/benchmarks/alpha/leaderboard?format=csv&limit=3').expect(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="alpha-leaderboard.csv"');
    expect(response.text).toBe(
      [
        'rank,user_id,job_id,submission_id,score,ap,f1,finished_at,mlflow_run_link',
        `1,dave,d1,sub-d1,0.95,0.9,0.8,${at(4)},`,
        `2,alice,a2,sub-a2,0.9,0.75,,${at(2)},`,
        `3,bob,b1,sub-b1,0.9,0.5,0.4,${at(3)},`,
        '',
      ].join('\r\n'),
    );
    const all = await get('/benchmarks/alpha/leaderboard?format=csv&all=true&offset=4').expect(200);
    expect(all.text.split('\r\n')[1]).toBe(`5,carol,c1,sub-c1,0.7,0.2,0.1,${at(1)},${base}/#/experiments/7/runs/run-c1`);
  });

  it('quotes CSV cells per RFC 4180 and defuses cells a spreadsheet would run as a formula', async () => {
    const hostile = { benchmarkId: 'errors', scores: { error_rate: 0.5 }, score: 0.5, finishedAt: at(9), runId: null, experimentId: null };
    await board.record({ ...hostile, jobId: 'x1', userId: '=HYPERLINK("http://evil")', submissionId: '-2+3' }, 'asc');
    await board.record({ ...hostile, jobId: 'x2', userId: '@sum', submissionId: 'a,b' }, 'asc');
    const response = await get('/benchmarks/errors/leaderboard?format=csv&offset=3').expect(200);
    expect(response.text.split('\r\n').slice(1)).toEqual([
      `4,"'=HYPERLINK(""http://evil"")",x1,'-2+3,0.5,${at(9)},`,
      `5,'@sum,x2,"a,b",0.5,${at(9)},`,
      '',
    ]);
  });

  it('refuses every malformed query with a 400 that names the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['all=yes', 'all must be one of true, false'],
      ['all=1', 'all must be one of true, false'],
      ['all=true&all=false', 'all must be one of true, false (got the parameter more than once)'],
      ['limit=0', 'limit must be a whole number from 1 to 1000'],
      ['limit=1001', 'limit must be a whole number from 1 to 1000'],
      ['limit=abc', 'limit must be a whole number from 1 to 1000'],
      ['limit=1e2', 'limit must be a whole number from 1 to 1000'],
      ['limit=1&limit=2', 'limit must be a whole number from 1 to 1000'],
      ['offset=-1', 'offset must be a whole number from 0 to 1000000'],
      ['offset=1000001', 'offset must be a whole number from 0 to 1000000'],
      ['format=xml', 'format must be one of json, csv'],
      ['format=csv&format=json', 'format must be one of json, csv'],
      ['sort=score', 'sort is not a known field'],
      ['a[b]=1', 'a[b] is not a known field'],
      ['__proto__=1', '__proto__ is not a known field'],
    ];
    for (const [query, message] of cases) {
      const response = await get(`/benchmarks/alpha/leaderboard?${query}`);
      expect({ query, status: response.status }).toEqual({ query, status: 400 });
      expect({ query, message: response.body.message }).toEqual({ query, message: expect.stringContaining(message) });
    }
  });

  it('answers 404 naming the known benchmarks for an unknown id, 400 for a malformed one, 401 without a token', async () => {
    const unknown = await get('/benchmarks/nope/leaderboard').expect(404);
    expect(unknown.body.message).toBe(`benchmark nope does not exist; ${KNOWN}`);
    for (const malformed of ['Alpha', 'a_b', 'a.b', 'x'.repeat(65), '%20alpha']) {
      const response = await get(`/benchmarks/${malformed}/leaderboard`);
      expect({ malformed, status: response.status }).toEqual({ malformed, status: 400 });
      expect(response.body.message).toContain('1 to 64 lowercase letters, digits and dashes');
    }
    const unavailable = await get('/benchmarks/broken/leaderboard').expect(200);
    expect(unavailable.body).toMatchObject({ benchmark: { id: 'broken', available: false, metric: null }, total: 0, rows: [] });
    await request(api.server).get('/benchmarks').expect(401);
    await request(api.server).get('/benchmarks/alpha/leaderboard').expect(401);
    await request(api.server).post('/admin/benchmarks/alpha/leaderboard/rebuild').expect(401);
  });

  it('takes a benchmark on POST /jobs; an unknown, unavailable or malformed one is a 400 that creates and queues nothing', async () => {
    const submissionId = await submit();
    const queue = (api.app.get(JobQueuePort) as BullMqJobQueueAdapter).queue;
    const totalBefore = (await get('/jobs').expect(200)).body.total;
    const queuedBefore = await queue.count();

    const unknown = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: 'nope' }).expect(400);
    expect(unknown.body.message).toBe(`benchmark "nope" does not exist; ${KNOWN}`);
    const unavailable = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: 'broken' }).expect(400);
    expect(unavailable.body.message).toContain('benchmark broken is unavailable');
    for (const value of [5, true, {}, ['alpha']]) {
      const response = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: value }).expect(400);
      expect(response.body.details).toContain('benchmark must be a benchmark id (a string) or null');
    }
    const malformed = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: 'Not_An_Id' }).expect(400);
    expect(malformed.body.message).toContain('benchmark must be a benchmark id: 1 to 64 lowercase letters, digits and dashes');
    expect((await get('/jobs').expect(200)).body.total).toBe(totalBefore);
    expect(await queue.count()).toBe(queuedBefore);

    const ranked = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: 'delta' }).expect(202);
    expect(ranked.body).toMatchObject({ benchmark: 'delta', scores: null, status: 'pending' });
    const plain = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: null }).expect(202);
    expect(plain.body).toMatchObject({ benchmark: null, scores: null });
    expect(plain.body.job_id).not.toBe(ranked.body.job_id);
    // No DEFAULT_BENCHMARK here: leaving the field out is the plain experiment again.
    const omitted = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId }).expect(202);
    expect(omitted.headers['idempotent-replayed']).toBe('true');
    expect(omitted.body.job_id).toBe(plain.body.job_id);
    expect((await get(`/jobs/${ranked.body.job_id}/status`).expect(200)).body.benchmark).toBe('delta');
    const listed = (await get('/jobs').expect(200)).body.jobs.find((job: { job_id: string }) => job.job_id === ranked.body.job_id);
    expect(listed).toMatchObject({ benchmark: 'delta', scores: null });
  });

  it('lets bob read the board that lists alice\'s job, and still refuses him her job\'s status, logs and results', async () => {
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: await submit(), benchmark: 'delta', config: { private: 1 } }).expect(202);
    const jobId: string = job.body.job_id;
    const scores = { auroc: 0.77, ap: 0.66 };
    const done = await api.app.get(JobStatusPort).update(jobId, { status: 'completed', finishedAt: at(5), scores });
    await board.record(
      { benchmarkId: 'delta', jobId, userId: 'alice', submissionId: done.submissionId, score: 0.77, scores, finishedAt: at(5), runId: null, experimentId: null },
      'desc',
    );
    const seen = await get('/benchmarks/delta/leaderboard', 'bob').expect(200);
    expect(seen.body.rows).toEqual([expect.objectContaining({ job_id: jobId, user_id: 'alice', score: 0.77, secondary: { ap: 0.66 } })]);
    await get('/benchmarks/delta/leaderboard?format=csv', 'bob').expect(200);
    for (const route of ['status', 'logs', 'results']) {
      const refused = await get(`/jobs/${jobId}/${route}`, 'bob');
      expect({ route, status: refused.status }).toEqual({ route, status: 403 });
    }
    expect((await get(`/jobs/${jobId}/status`).expect(200)).body.scores).toEqual(scores);
  });

  it('serves results with the official scores apart from what the job reported itself', async () => {
    const job = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: await submit(), benchmark: 'delta', config: { results: 1 } }).expect(202);
    const jobId: string = job.body.job_id;
    const tracking = api.app.get(TrackingPort);
    const run = await tracking.startRun(`e2e-leaderboard-${Date.now()}`, jobId, { job_id: jobId });
    // The job claims a perfect score; the platform logged the scorer's under the reserved prefix.
    await tracking.logMetrics(run.runId, [
      { key: 'auroc', value: 1 },
      { key: 'train_loss', value: 0.25 },
      { key: 'leaderboard.auroc', value: 0.61 },
      { key: 'leaderboard.ap', value: 0.52 },
    ]);
    await api.app.get(JobStatusPort).update(jobId, {
      status: 'completed',
      runId: run.runId,
      experimentId: run.experimentId,
      finishedAt: at(6),
      scores: { auroc: 0.61, ap: 0.52 },
    });
    const results = await get(`/jobs/${jobId}/results`).expect(200);
    expect(results.body).toEqual({
      job_id: jobId,
      status: 'completed',
      run_id: run.runId,
      experiment_id: run.experimentId,
      benchmark: 'delta',
      scores: { auroc: 0.61, ap: 0.52 },
      reported_metrics: { auroc: 1, train_loss: 0.25 },
      metrics: { auroc: 1, train_loss: 0.25 },
      mlflow_ui_link: `${base}/#/experiments/${run.experimentId}/runs/${run.runId}`,
      mlflow_rest_link: `${base}/api/2.0/mlflow/runs/get?run_id=${run.runId}`,
    });
  });

  it('rebuilds a board from the stored jobs for admins only, to the same rows the worker recorded', async () => {
    const status = api.app.get(JobStatusPort);
    const stored = async (jobId: string, userId: string, benchmark: string, change: Parameters<JobStatusPort['update']>[1]) => {
      const job: NewJob = {
        jobId,
        submissionId: `sub-${jobId}`,
        userId,
        entrypoint: 'main.py',
        configFile: null,
        config: {},
        resourceClass: 'small',
        benchmark,
        createdAt: at(0),
      };
      await status.create(job, api.config.rateLimit, Date.now());
      return status.update(jobId, change);
    };
    const scored = [
      await stored('gamma-1', 'alice', 'gamma', { status: 'completed', finishedAt: at(1), scores: { auroc: 0.6, ap: 0.5 } }),
      await stored('gamma-2', 'alice', 'gamma', { status: 'completed', finishedAt: at(2), scores: { auroc: 0.7 }, runId: 'run-g2', experimentId: '3' }),
      await stored('gamma-3', 'bob', 'gamma', { status: 'completed', finishedAt: at(1), scores: { auroc: 0.7, ap: 0.1 } }),
    ];
    // Not ranked: failed, unscored, or on another benchmark.
    await stored('gamma-4', 'carol', 'gamma', { status: 'failed', finishedAt: at(1), scores: { auroc: 0.99 }, errorMessage: 'scoring failed: x' });
    await stored('gamma-5', 'dave', 'gamma', { status: 'completed', finishedAt: at(1) });
    await stored('gamma-6', 'erin', 'alpha', { status: 'completed', finishedAt: at(1), scores: { auroc: 0.99 } });
    for (const job of scored) {
      await board.record(
        {
          benchmarkId: 'gamma',
          jobId: job.jobId,
          userId: job.userId,
          submissionId: job.submissionId,
          score: job.scores!.auroc,
          scores: job.scores!,
          finishedAt: job.finishedAt!,
          runId: job.runId,
          experimentId: job.experimentId,
        },
        'desc',
      );
    }
    const before = await Promise.all(['', '?all=true', '?format=csv'].map((query) => get(`/benchmarks/gamma/leaderboard${query}`).expect(200)));
    expect(ids(before[0].body)).toEqual(['gamma-3', 'gamma-2']);
    expect(ids(before[1].body)).toEqual(['gamma-3', 'gamma-2', 'gamma-1']);

    const refused = await request(api.server).post('/admin/benchmarks/gamma/leaderboard/rebuild').set(auth('bob')).expect(403);
    expect(refused.body.message).toBe('only admins may rebuild a leaderboard');
    await board.replace('gamma', 'desc', []);
    expect((await get('/benchmarks/gamma/leaderboard').expect(200)).body.total).toBe(0);

    const rebuilt = await request(api.server).post('/admin/benchmarks/gamma/leaderboard/rebuild').set(auth('admin')).expect(200);
    expect(rebuilt.body).toEqual({ benchmark: 'gamma', ranked: 3 });
    const after = await Promise.all(['', '?all=true', '?format=csv'].map((query) => get(`/benchmarks/gamma/leaderboard${query}`).expect(200)));
    expect(after[0].body).toEqual(before[0].body);
    expect(after[1].body).toEqual(before[1].body);
    expect(after[2].text).toBe(before[2].text);
    expect(after[1].body.rows[1].mlflow_run_link).toBe(`${base}/#/experiments/3/runs/run-g2`);

    const unknown = await request(api.server).post('/admin/benchmarks/nope/leaderboard/rebuild').set(auth('admin')).expect(404);
    expect(unknown.body.message).toBe(`benchmark nope does not exist; ${KNOWN}`);
    await request(api.server).post('/admin/benchmarks/broken/leaderboard/rebuild').set(auth('admin')).expect(404);
    await request(api.server).post('/admin/benchmarks/Bad_Id/leaderboard/rebuild').set(auth('admin')).expect(400);
    await request(api.server).get('/admin/benchmarks/gamma/leaderboard/rebuild').set(auth('admin')).expect(405);
  });
});

describe('DEFAULT_BENCHMARK (real app, real Redis)', () => {
  let fixture: BenchmarkFixture;
  let api: RunningApi;

  beforeAll(async () => {
    fixture = await writeBenchmarkFixture();
    api = await startApi({ BENCHMARKS_DIR: fixture.dir, DEFAULT_BENCHMARK: 'delta' });
  });
  afterAll(async () => {
    await api?.close();
    await fixture?.remove();
  });

  it('scores a job that names no benchmark on the default one; null still opts out', async () => {
    const upload = await request(api.server).post('/submissions').set(auth('alice')).attach('files', Buffer.from('print(1)'), 'main.py').expect(201);
    const submissionId: string = upload.body.submission_id;
    const defaulted = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId }).expect(202);
    expect(defaulted.body.benchmark).toBe('delta');
    const named = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: 'delta' }).expect(202);
    expect(named.headers['idempotent-replayed']).toBe('true');
    expect(named.body.job_id).toBe(defaulted.body.job_id);
    const plain = await request(api.server).post('/jobs').set(auth('alice')).send({ submission_id: submissionId, benchmark: null }).expect(202);
    expect(plain.body.benchmark).toBeNull();
  });
});
