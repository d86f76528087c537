import { BoardEntry, Caller, Forbidden, GetLeaderboard, Invalid, ListBenchmarks, NotFound, parseScores, RebuildLeaderboard } from '@app/domain';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../fakes/in-memory-benchmark-catalog';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryLeaderboard } from '../fakes/in-memory-leaderboard';

const digits = sampleBenchmark({ id: 'digits', metric: 'auc', order: 'desc', secondary: ['ap', 'f1'] });
const catalog = new InMemoryBenchmarkCatalog([available(digits), { id: 'broken', available: false, problem: 'broken/score.py is missing' }]);

function entry(jobId: string, userId: string, score: number, finishedAt = '2026-12-01T10:00:00.000Z'): BoardEntry {
  return { benchmarkId: 'digits', jobId, userId, submissionId: `sub-${jobId}`, score, scores: { auc: score, ap: score / 2 }, finishedAt, runId: `run-${jobId}`, experimentId: '1' };
}

describe('Leaderboard use cases', () => {
  let board: InMemoryLeaderboard;

  beforeEach(async () => {
    board = new InMemoryLeaderboard();
    await board.record(entry('j1', 'alice', 0.7), 'desc');
    await board.record(entry('j2', 'alice', 0.9), 'desc');
    await board.record(entry('j3', 'bob', 0.8), 'desc');
  });

  it('lists every benchmark with the size of its board, broken ones included', async () => {
    const summaries = await new ListBenchmarks(catalog, board).execute();
    expect(summaries.map((summary) => [summary.listing.id, summary.listing.available, summary.ranked])).toEqual([
      ['broken', false, { users: 0, jobs: 0 }],
      ['digits', true, { users: 2, jobs: 3 }],
    ]);
  });

  it('pages the board with the secondary metrics, null where the scorer wrote none', async () => {
    const page = await new GetLeaderboard(catalog, board).execute('digits', { all: false, offset: 0, limit: 50 });
    expect(page.total).toBe(2);
    expect(page.rows.map((row) => [row.rank, row.userId, row.jobId, row.secondary])).toEqual([
      [1, 'alice', 'j2', { ap: 0.45, f1: null }],
      [2, 'bob', 'j3', { ap: 0.4, f1: null }],
    ]);
  });

  it('says which benchmarks exist when asked for an unknown one, and checks the paging', async () => {
    const useCase = new GetLeaderboard(catalog, board);
    await expect(useCase.execute('nope', { all: false, offset: 0, limit: 50 })).rejects.toThrow(new NotFound('benchmark nope does not exist; known benchmarks: broken, digits'));
    await expect(useCase.execute('digits', { all: false, offset: -1, limit: 0 })).rejects.toThrow(Invalid);
    await expect(useCase.execute('digits', { all: false, offset: 0, limit: 1001 })).rejects.toThrow('limit must be a whole number from 1 to 1000');
  });

  it('rebuilds a board from the scores stored with the jobs, for admins only', async () => {
    const status = new InMemoryJobStatus();
    const limits = { jobsPerHour: 100, concurrentJobs: 100 };
    const base = { submissionId: 's', entrypoint: 'main.py', configFile: null, config: {}, resourceClass: 'small' as const, createdAt: 'then' };
    await status.create({ ...base, jobId: 'a1', userId: 'alice', benchmark: 'digits' }, limits, 1);
    await status.update('a1', { status: 'completed', scores: { auc: 0.6 }, finishedAt: '2026-12-01T10:00:00.000Z' });
    await status.create({ ...base, jobId: 'a2', userId: 'alice', benchmark: 'digits' }, limits, 2);
    await status.update('a2', { status: 'failed', scores: null });
    await status.create({ ...base, jobId: 'c1', userId: 'carol', benchmark: null }, limits, 3);
    await status.update('c1', { status: 'completed' });
    await status.create({ ...base, jobId: 'c2', userId: 'carol', benchmark: 'digits' }, limits, 4);
    await status.update('c2', { status: 'completed', scores: { ap: 1 } });
    const useCase = new RebuildLeaderboard(catalog, status, board);
    await expect(useCase.execute(new Caller('bob', false), 'digits')).rejects.toThrow(Forbidden);
    await expect(useCase.execute(new Caller('root', true), 'broken')).rejects.toThrow(NotFound);
    expect(await useCase.execute(new Caller('root', true), 'digits')).toEqual({ ranked: 1 });
    const page = await board.page('digits', { all: true, offset: 0, limit: 10 });
    expect(page.rows.map((row) => [row.jobId, row.score, row.finishedAt])).toEqual([['a1', 0.6, '2026-12-01T10:00:00.000Z']]);
  });
});

describe('parseScores', () => {
  it('takes a flat object of finite numbers that holds the metric', () => {
    expect(parseScores('{"auc": 0.93, "ap": 1, "n": -0}', 'auc')).toEqual({ scores: { auc: 0.93, ap: 1, n: -0 } });
  });

  it.each([
    ['', 'scores.json is not valid JSON'],
    ['null', 'must be a JSON object'],
    ['{"auc": null}', '"auc" must be a finite number, got null'],
    ['{"auc": true}', '"auc" must be a finite number, got true'],
    ['{"auc": 0.9, "x": [1]}', '"x" must be a finite number'],
    ['{"AUC": 0.9}', 'scores.json has no "auc"'],
    [`{${Array.from({ length: 101 }, (_, i) => `"m${i}": 1`).join(',')}}`, 'at most 100'],
    [`{"${'k'.repeat(251)}": 1, "auc": 1}`, 'metric name of 251 characters'],
  ])('refuses %j', (text, problem) => {
    const parsed = parseScores(text, 'auc');
    expect('problem' in parsed && parsed.problem).toContain(problem);
  });
});
