import { DelayedError } from 'bullmq';
import { AppConfig } from '@app/adapters';
import { ExecuteJob, JobPayload } from '@app/domain';
import { FixedClock } from '../../../libs/domain/test/fakes/fixed-clock';
import { InMemoryCancelSignal } from '../../../libs/domain/test/fakes/in-memory-cancel-signal';
import { InMemoryJobStatus } from '../../../libs/domain/test/fakes/in-memory-job-status';
import { InMemoryStorage } from '../../../libs/domain/test/fakes/in-memory-storage';
import { InMemoryTracking } from '../../../libs/domain/test/fakes/in-memory-tracking';
import { ScriptedSandbox } from '../../../libs/domain/test/fakes/scripted-sandbox';
import { JobProcessor } from './job.processor';
import { fakeRanking } from '../../../libs/domain/test/fakes/ranking';

const limits = { timeoutSeconds: 30, memoryMb: 256, pidsMax: 32 };

/** The processor with every port faked: what BullMQ would call, without Redis. */
describe('JobProcessor (fakes)', () => {
  let status: InMemoryJobStatus;
  let storage: InMemoryStorage;
  let sandbox: ScriptedSandbox;
  let tracking: InMemoryTracking;
  let cancels: InMemoryCancelSignal;
  let processor: JobProcessor;

  beforeEach(async () => {
    status = new InMemoryJobStatus();
    storage = new InMemoryStorage();
    sandbox = new ScriptedSandbox();
    cancels = new InMemoryCancelSignal();
    tracking = new InMemoryTracking();
    const execute = new ExecuteJob(status, storage, tracking, sandbox, new FixedClock(), fakeRanking(), {
      experimentName: 'leaderboard',
      limits: { small: limits, medium: limits },
    });
    const config = { workerGpus: ['0', '1'] } as AppConfig;
    processor = new JobProcessor(config, execute, cancels, status);
    await processor.watchCancels();
  });
  afterEach(async () => {
    await processor.stop();
  });

  async function delivered(jobId: string, entrypoint: string) {
    await storage.save(`sub-${jobId}`, [storage.stageIncoming(entrypoint, '')]);
    await storage.saveMetadata({ submissionId: `sub-${jobId}`, userId: 'alice', entrypoint, configFile: null, files: [], metadata: {}, createdAt: 'then' });
    await status.create(
      { jobId, submissionId: `sub-${jobId}`, userId: 'alice', entrypoint, configFile: null, config: {}, resourceClass: 'small', benchmark: null, createdAt: 'then' },
      { jobsPerHour: 100, concurrentJobs: 100 },
      Date.now(),
    );
    const data: JobPayload = { job_id: jobId, submission_id: `sub-${jobId}`, entrypoint, config_file: null, config: {}, resource_class: 'small' };
    const job = {
      data,
      moveToDelayed: jest.fn(async (_timestamp: number, _token?: string) => undefined),
      updateData: jest.fn(async (next: JobPayload) => {
        job.data = next;
      }),
    };
    return job;
  }

  const started = (count: number) =>
    new Promise<void>((resolve) => {
      sandbox.onStart = () => {
        if (sandbox.requests.length >= count) resolve();
      };
    });

  it('returns the final status of a run', async () => {
    expect(await processor.handle(await delivered('j1', 'succeed.py'))).toBe('completed');
  });

  it('gives each concurrent run its own GPU and takes it back after', async () => {
    const running = started(2);
    const first = processor.handle(await delivered('j1', 'hang.py'));
    const second = processor.handle(await delivered('j2', 'hang.py'));
    await running;
    expect(sandbox.requests.map((request) => request.gpu).sort()).toEqual(['0', '1']);
    await cancels.publish('j1');
    await cancels.publish('j2');
    expect(await Promise.all([first, second])).toEqual(['cancelled', 'cancelled']);
    await processor.handle(await delivered('j3', 'succeed.py'));
    expect(sandbox.requests[2].gpu).toBe('0');
  });

  it('kills a run when its job is cancelled elsewhere, even if the broadcast was missed', async () => {
    const running = started(1);
    const handled = processor.handle(await delivered('j1', 'hang.py'));
    await running;
    await status.update('j1', { status: 'cancelled', errorMessage: 'cancelled by alice' });
    expect(await handled).toBe('cancelled');
  });

  it('on stop, hands running jobs back to the queue without counting an attempt', async () => {
    const running = started(1);
    const job = await delivered('j1', 'hang.py');
    const handled = processor.handle(job, 'lock-token');
    await running;
    await processor.stop();
    await expect(handled).rejects.toBeInstanceOf(DelayedError);
    expect(job.moveToDelayed).toHaveBeenCalledWith(expect.any(Number), 'lock-token');
    expect((await status.get('j1'))?.status).toBe('pending');
    const late = await delivered('j2', 'succeed.py');
    await expect(processor.handle(late)).rejects.toBeInstanceOf(DelayedError);
    expect(sandbox.requests).toHaveLength(1);
  });

  it('sends a job back to the delayed set with backoff when MLflow is down before its code runs', async () => {
    tracking.unavailable = true;
    const job = await delivered('j1', 'succeed.py');
    const before = Date.now();
    await expect(processor.handle(job, 'lock-token')).rejects.toBeInstanceOf(DelayedError);
    expect(job.updateData).toHaveBeenCalledWith(expect.objectContaining({ job_id: 'j1', platform_fault_since: expect.any(Number), platform_retries: 1 }));
    const [until, token] = job.moveToDelayed.mock.calls[0];
    expect(token).toBe('lock-token');
    // The first delay is 1 s.
    expect(until).toBeGreaterThanOrEqual(before + 1000);
    expect(until).toBeLessThan(Date.now() + 1000 + 50);
    expect(sandbox.requests).toHaveLength(0);
    expect((await status.get('j1'))?.status).toBe('pending');
    // The next delivery doubles the delay; once MLflow is back the job runs.
    await expect(processor.handle(job, 'lock-token')).rejects.toBeInstanceOf(DelayedError);
    expect(job.data.platform_retries).toBe(2);
    expect(job.moveToDelayed.mock.calls[1][0]).toBeGreaterThanOrEqual(before + 2000);
    tracking.unavailable = false;
    expect(await processor.handle(job, 'lock-token')).toBe('completed');
  });

  it('forgets earlier platform faults when it hands a job back on stop', async () => {
    const running = started(1);
    const job = await delivered('j1', 'hang.py');
    job.data = { ...job.data, platform_fault_since: 1, platform_retries: 3 };
    const handled = processor.handle(job, 'lock-token');
    await running;
    await processor.stop();
    await expect(handled).rejects.toBeInstanceOf(DelayedError);
    expect(job.data).not.toHaveProperty('platform_fault_since');
    expect(job.data).not.toHaveProperty('platform_retries');
  });

  it('never fails a job because it could not be put back in the queue (a lock lost to a Redis outage)', async () => {
    tracking.unavailable = true;
    const job = await delivered('j1', 'succeed.py');
    job.moveToDelayed.mockRejectedValueOnce(new Error('Missing lock for job j1. moveToDelayed'));
    await expect(processor.handle(job, 'lock-token')).rejects.toBeInstanceOf(DelayedError);
    expect(await status.get('j1')).toMatchObject({ status: 'pending', errorMessage: null });
  });
});
