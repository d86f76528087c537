import { ExecuteJob, Execution, JobPayload, PlatformRetry } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../fakes/in-memory-benchmark-catalog';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';
import { fakeRanking } from '../fakes/ranking';
import { ScriptedSandbox } from '../fakes/scripted-sandbox';

const limit = { timeoutSeconds: 1, memoryMb: 512, pidsMax: 64 };
const WINDOW_MS = 600_000;

/** Redis (the status record) and MLflow (the tracking server) failing around a job, with fakes that simulate the outages. */
describe('ExecuteJob when the platform fails', () => {
  let clock: FixedClock;
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let tracking: InMemoryTracking;
  let sandbox: ScriptedSandbox;
  let ranking: ReturnType<typeof fakeRanking>;
  let retries: PlatformRetry[];
  /** Called on each in-process wait, after the fake clock moved: a test ends its outage here. */
  let onWait: (waits: number) => void;
  let useCase: ExecuteJob;

  beforeEach(() => {
    clock = new FixedClock();
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    tracking = new InMemoryTracking();
    sandbox = new ScriptedSandbox();
    ranking = fakeRanking(new InMemoryBenchmarkCatalog([available(sampleBenchmark({ id: 'digits', metric: 'auc', order: 'desc' }))]));
    retries = [];
    onWait = () => undefined;
    let waits = 0;
    useCase = new ExecuteJob(status, storage, tracking, sandbox, clock, ranking, {
      experimentName: 'leaderboard',
      limits: { small: limit, medium: limit },
      retry: { windowMs: WINDOW_MS },
      onRetry: (retry) => retries.push(retry),
      wait: async (milliseconds) => {
        clock.advance(milliseconds);
        onWait(++waits);
      },
    });
  });

  async function queued(entrypoint = 'succeed.py', benchmark: string | null = null): Promise<JobPayload> {
    await storage.save('sub-1', [storage.stageIncoming(entrypoint, '')]);
    await storage.saveMetadata({ submissionId: 'sub-1', userId: 'alice', entrypoint, configFile: null, files: [], metadata: {}, createdAt: 'then' });
    const job = { jobId: 'job-1', submissionId: 'sub-1', userId: 'alice', entrypoint, configFile: null, config: { lr: 0.1 }, resourceClass: 'small' as const, benchmark, createdAt: 'then' };
    await status.create(job, { jobsPerHour: 10, concurrentJobs: 10 }, Date.now());
    return { job_id: 'job-1', submission_id: 'sub-1', entrypoint, config_file: null, config: { lr: 0.1 }, resource_class: 'small', benchmark };
  }

  /** What the worker does with a retry: the next delivery carries the fault's start and count. */
  function redelivered(payload: JobPayload, execution: Execution): JobPayload {
    if (execution.outcome !== 'retry') throw new Error(`expected a retry, got ${JSON.stringify(execution)}`);
    clock.advance(execution.delayMs);
    return { ...payload, platform_fault_since: execution.since, platform_retries: execution.attempt };
  }

  const runsOfJob = () => [...tracking.runs.values()].filter((run) => run.tags.job_id === 'job-1');
  const stop = () => new AbortController().signal;

  describe('before the code runs', () => {
    it('sends the job back to pending with a growing delay while MLflow is down, then runs it once with one run', async () => {
      let payload = await queued();
      tracking.unavailable = true;
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 7; attempt += 1) {
        const execution = await useCase.execute(payload, stop());
        expect(execution).toMatchObject({ outcome: 'retry', service: 'MLflow', attempt, since: Date.parse('2026-01-01T00:00:00Z') });
        delays.push((execution as { delayMs: number }).delayMs);
        expect(await status.get('job-1')).toMatchObject({ status: 'pending', startedAt: null, errorMessage: null });
        payload = redelivered(payload, execution);
      }
      expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
      expect(sandbox.requests).toHaveLength(0);
      tracking.unavailable = false;
      expect(await useCase.execute(payload, stop())).toMatchObject({ outcome: 'finished', job: { status: 'completed' } });
      expect(runsOfJob()).toEqual([expect.objectContaining({ status: 'FINISHED' })]);
      expect(sandbox.requests).toHaveLength(1);
    });

    it('reuses the run an earlier attempt made when MLflow failed after creating it', async () => {
      let payload = await queued();
      tracking.unavailableCalls.add('logParams');
      const execution = await useCase.execute(payload, stop());
      expect(execution).toMatchObject({ outcome: 'retry', service: 'MLflow' });
      // The record does not name the run: its code never ran, so the next attempt may take it over.
      expect(await status.get('job-1')).toMatchObject({ status: 'pending', runId: null });
      expect(runsOfJob()).toEqual([expect.objectContaining({ status: 'RUNNING' })]);
      payload = redelivered(payload, execution);
      tracking.unavailableCalls.clear();
      await useCase.execute(payload, stop());
      expect(runsOfJob()).toEqual([expect.objectContaining({ status: 'FINISHED', params: { lr: '0.1' } })]);
      expect((await status.get('job-1'))?.runId).toBe([...tracking.runs.keys()][0]);
    });

    it('retries when Redis is down, recording nothing it cannot record', async () => {
      const payload = await queued();
      status.unavailable = true;
      expect(await useCase.execute(payload, stop())).toMatchObject({ outcome: 'retry', service: 'Redis', reason: expect.stringContaining('Redis is unreachable'), delayMs: 1000 });
      status.unavailable = false;
      expect(await status.get('job-1')).toMatchObject({ status: 'pending' });
      expect(sandbox.requests).toHaveLength(0);
      expect(tracking.runs.size).toBe(0);
    });

    it('does not end a lost run it cannot reach: the job waits for MLflow instead of reusing that run', async () => {
      const payload = await queued();
      const lost = await tracking.startRun('leaderboard', 'job-1', { job_id: 'job-1' });
      await status.update('job-1', { status: 'running', runId: lost.runId });
      tracking.unavailable = true;
      const execution = await useCase.execute(payload, stop());
      expect(execution).toMatchObject({ outcome: 'retry', service: 'MLflow' });
      tracking.unavailable = false;
      await useCase.execute(redelivered(payload, execution), stop());
      expect(tracking.runs.get(lost.runId)?.status).toBe('FAILED');
      expect(runsOfJob().map((run) => run.status).sort()).toEqual(['FAILED', 'FINISHED']);
    });

    it('fails the job after the retry window, naming the service, how long, and the last error', async () => {
      const payload = await queued();
      tracking.unavailable = true;
      const first = await useCase.execute(payload, stop());
      clock.advance(WINDOW_MS - 1000 - 1);
      // Just inside the window: still retried.
      expect(await useCase.execute({ ...payload, platform_fault_since: (first as { since: number }).since, platform_retries: 9 }, stop())).toMatchObject({
        outcome: 'retry',
      });
      clock.advance(1000 + 12_000);
      const execution = await useCase.execute({ ...payload, platform_fault_since: (first as { since: number }).since, platform_retries: 10 }, stop());
      expect(execution).toMatchObject({
        outcome: 'finished',
        job: {
          status: 'failed',
          errorMessage: expect.stringMatching(/^MLflow was unavailable for 612 s \(last error: MLflow tracking server at memory:\/\/ is unreachable .*\); the job's code never ran$/),
        },
      });
      expect(sandbox.requests).toHaveLength(0);
    });

    it('waits for Redis to come back before it can record that the window ran out', async () => {
      const payload = await queued();
      status.unavailable = true;
      clock.advance(WINDOW_MS);
      const execution = await useCase.execute({ ...payload, platform_fault_since: Date.parse('2026-01-01T00:00:00Z'), platform_retries: 20 }, stop());
      expect(execution).toMatchObject({ outcome: 'retry', service: 'Redis', delayMs: 30_000 });
      status.unavailable = false;
      tracking.unavailable = true;
      const recorded = await useCase.execute({ ...payload, platform_fault_since: Date.parse('2026-01-01T00:00:00Z'), platform_retries: 21 }, stop());
      expect(recorded).toMatchObject({ job: { status: 'failed', errorMessage: expect.stringMatching(/^MLflow was unavailable for 600 s/) } });
    });

    it('does not treat the user’s or the config’s faults as the platform’s', async () => {
      const payload = await queued('exit3.py');
      expect(await useCase.execute(payload, stop())).toMatchObject({ outcome: 'finished', job: { status: 'failed', errorMessage: 'exit code 3: bad input' } });
      expect(retries).toEqual([]);
    });
  });

  describe('after the code ran', () => {
    it('keeps the outcome and retries the run’s finishing writes until MLflow is back', async () => {
      const payload = await queued();
      sandbox.onStart = () => {
        tracking.unavailable = true;
      };
      onWait = (waits) => {
        if (waits === 4) tracking.unavailable = false;
      };
      const execution = await useCase.execute(payload, stop());
      expect(execution).toMatchObject({ outcome: 'finished', job: { status: 'completed', errorMessage: null } });
      expect(sandbox.requests).toHaveLength(1);
      const [run] = runsOfJob();
      expect(run.status).toBe('FINISHED');
      expect(new TextDecoder().decode(run.artifacts.get('logs/job.log'))).toBe(await storage.loadLogs('job-1', 0, 1000).then((log) => log!.text));
      expect(retries[0]).toEqual({ jobId: 'job-1', service: 'MLflow', step: expect.any(String), attempt: 1, delayMs: 1000, reason: expect.stringContaining('unreachable') });
      expect(new Set(retries.map((retry) => retry.step))).toEqual(new Set(['upload the log', 'end the run']));
      expect((await status.get('job-1'))?.finishing).toBeUndefined();
    });

    it('keeps the outcome through a Redis outage and writes it when Redis is back', async () => {
      const payload = await queued('exit3.py');
      sandbox.onStart = () => {
        status.unavailable = true;
      };
      onWait = (waits) => {
        if (waits === 3) status.unavailable = false;
      };
      const execution = await useCase.execute(payload, stop());
      expect(execution).toMatchObject({ outcome: 'finished', job: { status: 'failed', errorMessage: 'exit code 3: bad input' } });
      expect(retries.map((retry) => [retry.service, retry.step, retry.attempt, retry.delayMs])).toEqual([
        ['Redis', 'keep the outcome', 1, 1000],
        ['Redis', 'keep the outcome', 2, 2000],
        ['Redis', 'keep the outcome', 3, 4000],
      ]);
      expect(runsOfJob()).toEqual([expect.objectContaining({ status: 'FAILED' })]);
      expect(sandbox.requests).toHaveLength(1);
    });

    it('scores and ranks a job whose outcome landed after an outage of both services', async () => {
      const payload = await queued('succeed.py', 'digits');
      sandbox.onStart = () => {
        tracking.unavailable = true;
      };
      onWait = (waits) => {
        if (waits === 2) status.unavailable = true;
        if (waits === 5) {
          status.unavailable = false;
          tracking.unavailable = false;
        }
      };
      expect(await useCase.execute(payload, stop())).toMatchObject({ job: { status: 'completed', scores: { auc: 0.9, ap: 0.8 } } });
      expect(runsOfJob()[0].metrics.get('leaderboard.auc')?.value).toBe(0.9);
      expect((await ranking.board.page('digits', { all: false, offset: 0, limit: 10 })).rows).toEqual([expect.objectContaining({ jobId: 'job-1', score: 0.9 })]);
    });

    it('hands the job back on shutdown mid-finishing, and the next delivery publishes the outcome without running the code again', async () => {
      const payload = await queued('succeed.py', 'digits');
      const controller = new AbortController();
      sandbox.onStart = () => {
        tracking.unavailable = true;
      };
      onWait = (waits) => {
        if (waits === 2) controller.abort('shutdown');
      };
      expect(await useCase.execute(payload, controller.signal)).toEqual({ outcome: 'requeue' });
      // The outcome waits in the record; the job is still running as far as anyone can see.
      expect(await status.get('job-1')).toMatchObject({ status: 'running', finishing: { status: 'completed', runStatus: 'FINISHED', scores: { auc: 0.9, ap: 0.8 } } });
      tracking.unavailable = false;
      expect(await useCase.execute(payload, stop())).toMatchObject({ outcome: 'finished', job: { status: 'completed', scores: { auc: 0.9, ap: 0.8 } } });
      expect(sandbox.requests).toHaveLength(1);
      expect(runsOfJob()).toEqual([expect.objectContaining({ status: 'FINISHED' })]);
      expect((await ranking.board.page('digits', { all: false, offset: 0, limit: 10 })).rows).toHaveLength(1);
      expect((await status.get('job-1'))?.finishing).toBeUndefined();
    });

    it('gives up on MLflow after the retry window but still records the outcome', async () => {
      const payload = await queued();
      sandbox.onStart = () => {
        tracking.unavailable = true;
      };
      const execution = await useCase.execute(payload, stop());
      expect(execution).toMatchObject({ outcome: 'finished', job: { status: 'completed' } });
      expect(retries.filter((retry) => retry.gaveUp).map((retry) => retry.step).sort()).toEqual(['end the run', 'upload the log']);
      // Each write waited at most the window (30 s steps), not forever.
      expect(clock.now() - Date.parse('2026-01-01T00:00:00Z')).toBeLessThan(2 * (WINDOW_MS + 30_000));
    });

    it('does not rank a job cancelled while its outcome was being published', async () => {
      const payload = await queued('succeed.py', 'digits');
      sandbox.onStart = () => {
        tracking.unavailable = true;
      };
      onWait = (waits) => {
        if (waits === 1) {
          void status.update('job-1', { status: 'cancelled', errorMessage: 'cancelled by alice' });
          tracking.unavailable = false;
        }
      };
      expect(await useCase.execute(payload, stop())).toMatchObject({ job: { status: 'cancelled' } });
      expect((await ranking.board.page('digits', { all: false, offset: 0, limit: 10 })).rows).toEqual([]);
    });
  });
});
