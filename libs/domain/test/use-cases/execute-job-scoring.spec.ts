import { Benchmark, ExecuteJob, JobPayload } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../fakes/in-memory-benchmark-catalog';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';
import { fakeRanking } from '../fakes/ranking';
import { ScriptedSandbox } from '../fakes/scripted-sandbox';

const limit = { timeoutSeconds: 1, memoryMb: 512, pidsMax: 64 };

describe('ExecuteJob on a benchmark', () => {
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let tracking: InMemoryTracking;
  let sandbox: ScriptedSandbox;
  let ranking: ReturnType<typeof fakeRanking>;
  let useCase: ExecuteJob;
  const digits: Benchmark = sampleBenchmark({ id: 'digits', metric: 'auc', order: 'desc', secondary: ['ap'] });

  beforeEach(() => {
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    tracking = new InMemoryTracking();
    sandbox = new ScriptedSandbox();
    const broken = { id: 'broken', available: false as const, problem: 'broken/benchmark.yaml: no metric' };
    ranking = fakeRanking(new InMemoryBenchmarkCatalog([available(digits), broken]));
    useCase = new ExecuteJob(status, storage, tracking, sandbox, new FixedClock(), ranking, {
      experimentName: 'leaderboard',
      limits: { small: limit, medium: limit },
    });
  });

  async function queued(entrypoint: string, benchmark: string | null, jobId = 'job-1', userId = 'alice'): Promise<JobPayload> {
    await storage.save(`sub-${jobId}`, [storage.stageIncoming(entrypoint, '')]);
    await storage.saveMetadata({ submissionId: `sub-${jobId}`, userId, entrypoint, configFile: null, files: [], metadata: {}, createdAt: 'then' });
    const job = { jobId, submissionId: `sub-${jobId}`, userId, entrypoint, configFile: null, config: {}, resourceClass: 'small' as const, benchmark, createdAt: 'then' };
    await status.create(job, { jobsPerHour: 10, concurrentJobs: 10 }, Date.now());
    return { job_id: jobId, submission_id: job.submissionId, entrypoint, config_file: null, config: {}, resource_class: 'small', benchmark };
  }

  it('gives the job the public data, scores its output, stores the scores and ranks it', async () => {
    const execution = await useCase.execute(await queued('succeed.py', 'digits'), new AbortController().signal);
    expect(execution).toMatchObject({ outcome: 'finished', job: { status: 'completed', scores: { auc: 0.9, ap: 0.8 } } });
    expect(sandbox.requests[0].dataDir).toBe(digits.publicDir);
    expect(ranking.scorer.requests[0]).toMatchObject({
      jobId: 'job-1',
      scorerPath: digits.scorerPath,
      referenceDir: digits.referenceDir,
      predictionsDir: 'memory://runs/job-1/output',
      logPath: 'memory://logs/job-1.scorer',
      limits: digits.scorer,
    });
    const job = await status.get('job-1');
    const run = tracking.runs.get(job!.runId!)!;
    expect(run.status).toBe('FINISHED');
    expect(run.metrics.get('leaderboard.auc')?.value).toBe(0.9);
    expect(run.metrics.get('leaderboard.ap')?.value).toBe(0.8);
    const page = await ranking.board.page('digits', { all: false, offset: 0, limit: 10 });
    expect(page.rows).toEqual([
      expect.objectContaining({ rank: 1, jobId: 'job-1', userId: 'alice', submissionId: 'sub-job-1', score: 0.9, runId: job!.runId, finishedAt: job!.finishedAt }),
    ]);
  });

  it('runs a plain experiment with no data, no scorer and no board', async () => {
    const execution = await useCase.execute(await queued('succeed.py', null), new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'completed', scores: null } });
    expect(sandbox.requests[0].dataDir).toBeUndefined();
    expect(ranking.scorer.requests).toHaveLength(0);
    expect(await ranking.board.counts('digits')).toEqual({ users: 0, jobs: 0 });
  });

  it('never scores a job whose code failed', async () => {
    const execution = await useCase.execute(await queued('exit3.py', 'digits'), new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', errorMessage: 'exit code 3: bad input', scores: null } });
    expect(ranking.scorer.requests).toHaveLength(0);
  });

  it.each([
    [{ kind: 'exit_code', exitCode: 1, stderrTail: 'predictions.csv line 3: score "x" is not a number' }, null, 'scoring failed: exit code 1: predictions.csv line 3: score "x" is not a number'],
    [{ kind: 'timeout', seconds: 60 }, null, 'scoring failed: timeout after 60 s'],
    [{ kind: 'out_of_memory', limitMb: 512 }, null, 'scoring failed: out of memory (limit 512 MiB)'],
    [{ kind: 'signal', signal: 'SIGSEGV', stderrTail: '' }, null, 'scoring failed: killed by SIGSEGV'],
    [{ kind: 'sandbox_error', message: 'scores.json is a symbolic link, not a regular file' }, null, 'scoring failed: scores.json is a symbolic link, not a regular file'],
    [{ kind: 'succeeded' }, null, 'scoring failed: the scorer wrote no scores.json'],
    [{ kind: 'succeeded' }, 'not json', 'scoring failed: scores.json is not valid JSON'],
    [{ kind: 'succeeded' }, '[0.9]', 'scoring failed: scores.json must be a JSON object of metric names to numbers'],
    [{ kind: 'succeeded' }, '{"auc": {"nested": 1}}', 'scoring failed: scores.json: "auc" must be a finite number'],
    [{ kind: 'succeeded' }, '{"auc": "0.9"}', 'scoring failed: scores.json: "auc" must be a finite number, got "0.9"'],
    [{ kind: 'succeeded' }, '{"auc": 1e999}', 'scoring failed: scores.json: "auc" must be a finite number'],
    [{ kind: 'succeeded' }, '{"ap": 0.5}', 'scoring failed: scores.json has no "auc", the benchmark\'s metric'],
  ] as const)('fails truthfully and ranks nothing when the scorer ends %j with %j', async (outcome, scoresJson, message) => {
    ranking.scorer.next = { outcome, scoresJson };
    const execution = await useCase.execute(await queued('succeed.py', 'digits'), new AbortController().signal);
    expect(execution).toMatchObject({ job: { status: 'failed', scores: null } });
    const job = (execution as { job: { errorMessage: string } }).job;
    expect(job.errorMessage.startsWith(message)).toBe(true);
    expect(await ranking.board.counts('digits')).toEqual({ users: 0, jobs: 0 });
    const stored = await status.get('job-1');
    expect(tracking.runs.get(stored!.runId!)?.status).toBe('FAILED');
  });

  it('cancels, or puts back for another worker, a job stopped while it is being scored', async () => {
    ranking.scorer.next = async () => ({ outcome: { kind: 'aborted' }, scoresJson: null });
    const cancel = new AbortController();
    cancel.abort('cancel');
    sandbox.outcomes.set('succeed.py', { kind: 'succeeded' });
    expect(await useCase.execute(await queued('succeed.py', 'digits'), cancel.signal)).toMatchObject({ job: { status: 'cancelled' } });
    const shutdown = new AbortController();
    shutdown.abort('shutdown');
    expect(await useCase.execute(await queued('succeed.py', 'digits', 'job-2'), shutdown.signal)).toEqual({ outcome: 'requeue' });
    expect(await ranking.board.counts('digits')).toEqual({ users: 0, jobs: 0 });
  });

  it('fails a job whose benchmark is unknown or unavailable on this worker, without running it', async () => {
    expect(await useCase.execute(await queued('succeed.py', 'gone'), new AbortController().signal)).toMatchObject({
      job: { status: 'failed', errorMessage: 'benchmark gone is not configured on this worker' },
    });
    expect(await useCase.execute(await queued('succeed.py', 'broken', 'job-2'), new AbortController().signal)).toMatchObject({
      job: { status: 'failed', errorMessage: 'benchmark broken is unavailable: broken/benchmark.yaml: no metric' },
    });
    expect(sandbox.requests).toHaveLength(0);
  });

  it('keeps the official scores when the tracking server refuses the copy', async () => {
    const payload = await queued('succeed.py', 'digits');
    const logMetrics = jest.spyOn(tracking, 'logMetrics').mockRejectedValue(new Error('MLflow down'));
    const execution = await useCase.execute(payload, new AbortController().signal);
    expect(logMetrics).toHaveBeenCalled();
    expect(execution).toMatchObject({ job: { status: 'completed', scores: { auc: 0.9, ap: 0.8 } } });
    expect(await ranking.board.counts('digits')).toEqual({ users: 1, jobs: 1 });
  });

  it('ranks what the scorer said, not what the job logged about itself', async () => {
    sandbox.onStart = (request) => {
      const runId = request.env.MLFLOW_RUN_ID;
      void tracking.logMetrics(runId, [{ key: 'auc', value: 1e9 }]);
    };
    ranking.scorer.next = { outcome: { kind: 'succeeded' }, scoresJson: '{"auc": 0.51}' };
    await useCase.execute(await queued('succeed.py', 'digits'), new AbortController().signal);
    const page = await ranking.board.page('digits', { all: true, offset: 0, limit: 10 });
    expect(page.rows.map((row) => row.score)).toEqual([0.51]);
  });
});
