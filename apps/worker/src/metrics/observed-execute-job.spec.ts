import { Logger } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';
import { nestLoggerFor } from '@app/adapters';
import { Benchmark, JobPayload, ScoreJob } from '@app/domain';
import { readScrape, valueOf } from '../../../../test/prometheus';
import { FixedClock } from '../../../../libs/domain/test/fakes/fixed-clock';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../../../../libs/domain/test/fakes/in-memory-benchmark-catalog';
import { InMemoryJobStatus } from '../../../../libs/domain/test/fakes/in-memory-job-status';
import { InMemoryLeaderboard } from '../../../../libs/domain/test/fakes/in-memory-leaderboard';
import { InMemoryStorage } from '../../../../libs/domain/test/fakes/in-memory-storage';
import { InMemoryTracking } from '../../../../libs/domain/test/fakes/in-memory-tracking';
import { ScriptedSandbox } from '../../../../libs/domain/test/fakes/scripted-sandbox';
import { ScriptedScorer } from '../../../../libs/domain/test/fakes/scripted-scorer';
import { MeteredSandboxRunner, MeteredScorer } from './metered-ports';
import { ObservedExecuteJob } from './observed-execute-job';
import { WorkerMetrics } from './worker-metrics';

const limit = { timeoutSeconds: 1, memoryMb: 512, pidsMax: 64 };

/** The real ExecuteJob over in-memory ports, observed as the worker module wires it. */
describe('worker metrics and job log fields', () => {
  let metrics: WorkerMetrics;
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let tracking: InMemoryTracking;
  let sandbox: ScriptedSandbox;
  let scorer: ScriptedScorer;
  let lines: Record<string, unknown>[];
  let root: Pino;
  let useCase: ObservedExecuteJob;
  let benchmark: Benchmark;

  beforeEach(() => {
    metrics = new WorkerMetrics(3);
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    tracking = new InMemoryTracking();
    sandbox = new ScriptedSandbox();
    scorer = new ScriptedScorer();
    lines = [];
    root = pino({}, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // As main.ts does: Nest's Logger lines go through pino (and the job's fields).
    Logger.overrideLogger(nestLoggerFor(root));
    benchmark = sampleBenchmark({ id: 'digits', metric: 'auc', order: 'desc' });
    const ranking = { benchmarks: new InMemoryBenchmarkCatalog([available(benchmark)]), scoring: new ScoreJob(new MeteredScorer(scorer, metrics)), board: new InMemoryLeaderboard() };
    useCase = new ObservedExecuteJob({ metrics, root }, status, storage, tracking, new MeteredSandboxRunner(sandbox, metrics), new FixedClock(), ranking, {
      experimentName: 'leaderboard',
      limits: { small: limit, medium: limit },
    });
  });

  async function queued(jobId: string, entrypoint: string, onBenchmark = false): Promise<JobPayload> {
    await storage.save(`sub-${jobId}`, [storage.stageIncoming(entrypoint, '')]);
    await storage.saveMetadata({ submissionId: `sub-${jobId}`, userId: 'alice', entrypoint, configFile: null, files: [], metadata: {}, createdAt: 'then' });
    const createdAt = new Date(Date.now() - 5000).toISOString();
    const benchmarkId = onBenchmark ? benchmark.id : null;
    await status.create(
      { jobId, submissionId: `sub-${jobId}`, userId: 'alice', entrypoint, configFile: null, config: {}, resourceClass: 'small', benchmark: benchmarkId, createdAt },
      { jobsPerHour: 10, concurrentJobs: 10 },
      Date.now(),
    );
    return { job_id: jobId, submission_id: `sub-${jobId}`, entrypoint, config_file: null, config: {}, resource_class: 'small', benchmark: benchmarkId };
  }
  const samples = async () => readScrape(await metrics.registry.metrics()).samples;
  const run = (payload: JobPayload) => useCase.execute(payload, new AbortController().signal);

  it('times runs by outcome, counts the wait, and frees the slot', async () => {
    await run(await queued('ok', 'succeed.py'));
    await run(await queued('bad', 'exit3.py'));
    const after = await samples();
    expect(valueOf(after, 'leaderboard_job_run_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(valueOf(after, 'leaderboard_job_run_duration_seconds_count', { outcome: 'failed' })).toBe(1);
    expect(valueOf(after, 'leaderboard_job_wait_seconds_count')).toBe(2);
    // Admitted 5 s before the run: the wait lands in the 5 s bucket, not the 1 s one.
    expect(valueOf(after, 'leaderboard_job_wait_seconds_bucket', { le: '1' })).toBe(0);
    expect(valueOf(after, 'leaderboard_job_wait_seconds_bucket', { le: '15' })).toBe(2);
    expect(valueOf(after, 'leaderboard_worker_busy_slots')).toBe(0);
    expect(valueOf(after, 'leaderboard_worker_slots')).toBe(3);
    // A user's code exiting 3 is no sandbox failure.
    expect(valueOf(after, 'leaderboard_sandbox_failures_total', { kind: 'sandbox_error' })).toBe(0);
  });

  it('counts the sandbox failing and the scorer failing, apart from user failures', async () => {
    sandbox.outcomes.set('broken.py', { kind: 'sandbox_error', message: 'bwrap: cannot mount' });
    await run(await queued('sbx', 'broken.py'));
    scorer.next = { outcome: { kind: 'exit_code', exitCode: 1, stderrTail: 'KeyError' }, scoresJson: null };
    await run(await queued('scored', 'succeed.py', true));
    const after = await samples();
    expect(valueOf(after, 'leaderboard_sandbox_failures_total', { kind: 'sandbox_error' })).toBe(1);
    expect(valueOf(after, 'leaderboard_scorer_failures_total', { kind: 'exit_code' })).toBe(1);
    expect(valueOf(after, 'leaderboard_job_run_duration_seconds_count', { outcome: 'failed' })).toBe(2);
  });

  it('counts a job put back for a platform fault by the service that was down', async () => {
    tracking.unavailable = true;
    const execution = await run(await queued('later', 'succeed.py'));
    expect(execution.outcome).toBe('retry');
    const after = await samples();
    expect(valueOf(after, 'leaderboard_platform_fault_retries_total', { service: 'MLflow' })).toBe(1);
    expect(valueOf(after, 'leaderboard_platform_fault_retries_total', { service: 'Redis' })).toBe(0);
    expect(valueOf(after, 'leaderboard_job_run_duration_seconds_count', { outcome: 'retry' })).toBe(1);
  });

  it('puts the job id on every line logged while it runs, and on no other', async () => {
    await run(await queued('traced', 'succeed.py'));
    root.info('after the run');
    const started = lines.find((line) => line.msg === 'run started');
    expect(started).toMatchObject({ job_id: 'traced', context: 'Job' });
    expect(lines.find((line) => String(line.msg).startsWith('run ended: completed after'))).toMatchObject({ job_id: 'traced' });
    expect(lines.find((line) => line.msg === 'after the run')).not.toHaveProperty('job_id');
  });
});
