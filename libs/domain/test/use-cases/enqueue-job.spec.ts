import { Caller, EnqueueJob, Forbidden, Invalid, NotFound, RateLimited, Unavailable } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryJobQueue } from '../fakes/in-memory-job-queue';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { SequentialIds } from '../fakes/sequential-ids';
import { InMemoryBenchmarkCatalog } from '../fakes/in-memory-benchmark-catalog';

const alice = new Caller('alice', false);
const bob = new Caller('bob', false);

describe('EnqueueJob', () => {
  let storage: InMemoryStorage;
  let status: InMemoryJobStatus;
  let queue: InMemoryJobQueue;
  let clock: FixedClock;
  let useCase: EnqueueJob;

  beforeEach(async () => {
    storage = new InMemoryStorage();
    status = new InMemoryJobStatus();
    queue = new InMemoryJobQueue();
    clock = new FixedClock();
    useCase = new EnqueueJob(storage, status, queue, new SequentialIds(), clock, new InMemoryBenchmarkCatalog(), {
      limits: { jobsPerHour: 3, concurrentJobs: 2 },
      defaultBenchmark: null,
    });
    await storage.saveMetadata({
      submissionId: 'sub-a',
      userId: 'alice',
      entrypoint: 'train.py',
      configFile: 'config.yaml',
      files: ['config.yaml', 'train.py'],
      metadata: {},
      createdAt: '2026-01-01T00:00:00Z',
    });
  });

  it('creates a pending job and queues the payload the worker reads', async () => {
    const { job, created } = await useCase.execute(alice, { submissionId: 'sub-a', config: { lr: 0.1 }, resourceClass: 'medium' });
    expect(created).toBe(true);
    expect(job).toMatchObject({ status: 'pending', userId: 'alice', submissionId: 'sub-a', entrypoint: 'train.py', resourceClass: 'medium' });
    expect(queue.pending.get(job.jobId)).toEqual({
      job_id: job.jobId,
      submission_id: 'sub-a',
      entrypoint: 'train.py',
      config_file: 'config.yaml',
      config: { lr: 0.1 },
      resource_class: 'medium',
      benchmark: null,
    });
  });

  it('gives back the same job for the same request, whatever the key order of the config', async () => {
    const first = await useCase.execute(alice, { submissionId: 'sub-a', config: { a: 1, b: { c: 2, d: 3 } } });
    const second = await useCase.execute(alice, { submissionId: 'sub-a', config: { b: { d: 3, c: 2 }, a: 1 } });
    expect(second).toEqual({ job: first.job, created: false });
    expect(queue.pending.size).toBe(1);
  });

  it('makes a new job for a new Idempotency-Key or another config', async () => {
    const first = await useCase.execute(alice, { submissionId: 'sub-a' });
    await status.update(first.job.jobId, { status: 'completed' });
    const rerun = await useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: 'rerun-1' });
    const other = await useCase.execute(alice, { submissionId: 'sub-a', config: { lr: 1 } });
    expect(new Set([first.job.jobId, rerun.job.jobId, other.job.jobId]).size).toBe(3);
  });

  it('does not count a duplicate against the limits', async () => {
    await useCase.execute(alice, { submissionId: 'sub-a' });
    await useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: 'two' });
    for (let index = 0; index < 5; index += 1) {
      expect((await useCase.execute(alice, { submissionId: 'sub-a' })).created).toBe(false);
    }
  });

  it('refuses past the concurrent limit with a message that says which limit', async () => {
    await useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: '1' });
    await useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: '2' });
    const attempt = useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: '3' });
    await expect(attempt).rejects.toBeInstanceOf(RateLimited);
    await expect(attempt).rejects.toThrow('concurrent job limit reached: at most 2 jobs pending or running');
  });

  it('refuses past the hourly limit with the seconds until a slot frees', async () => {
    for (const key of ['1', '2', '3']) {
      const { job } = await useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: key });
      await status.update(job.jobId, { status: 'completed' });
      clock.advance(60_000);
    }
    const attempt = useCase.execute(alice, { submissionId: 'sub-a', idempotencyKey: '4' });
    await expect(attempt).rejects.toMatchObject({ retryAfterSeconds: 57 * 60 });
    await expect(attempt).rejects.toThrow('hourly job limit reached: at most 3 new jobs per rolling hour');
  });

  it('leaves nothing behind when the queue is down', async () => {
    queue.failNext = true;
    const attempt = useCase.execute(alice, { submissionId: 'sub-a' });
    await expect(attempt).rejects.toBeInstanceOf(Unavailable);
    expect((await status.list('alice', 0, 10)).total).toBe(0);
    expect((await useCase.execute(alice, { submissionId: 'sub-a' })).created).toBe(true);
  });

  it('refuses unknown submissions, other users\' submissions and unknown resource classes', async () => {
    await expect(useCase.execute(alice, { submissionId: 'nope' })).rejects.toBeInstanceOf(NotFound);
    await expect(useCase.execute(bob, { submissionId: 'sub-a' })).rejects.toBeInstanceOf(Forbidden);
    await expect(useCase.execute(alice, { submissionId: 'sub-a', resourceClass: 'huge' as never })).rejects.toBeInstanceOf(Invalid);
  });
});
