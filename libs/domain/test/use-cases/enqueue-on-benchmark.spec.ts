import { Caller, EnqueueJob, Invalid } from '@app/domain';
import { FixedClock } from '../fakes/fixed-clock';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../fakes/in-memory-benchmark-catalog';
import { InMemoryJobQueue } from '../fakes/in-memory-job-queue';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { SequentialIds } from '../fakes/sequential-ids';

const alice = new Caller('alice', false);
const catalog = new InMemoryBenchmarkCatalog([
  available(sampleBenchmark({ id: 'digits' })),
  available(sampleBenchmark({ id: 'mnist-lite' })),
  { id: 'broken', available: false, problem: 'broken/benchmark.yaml: order must be asc or desc' },
]);

describe('EnqueueJob with benchmarks', () => {
  let status: InMemoryJobStatus;
  let queue: InMemoryJobQueue;
  let storage: InMemoryStorage;

  beforeEach(async () => {
    status = new InMemoryJobStatus();
    queue = new InMemoryJobQueue();
    storage = new InMemoryStorage();
    await storage.saveMetadata({ submissionId: 'sub-a', userId: 'alice', entrypoint: 'main.py', configFile: null, files: ['main.py'], metadata: {}, createdAt: 'then' });
  });

  function enqueue(defaultBenchmark: string | null = null): EnqueueJob {
    return new EnqueueJob(storage, status, queue, new SequentialIds(), new FixedClock(), catalog, {
      limits: { jobsPerHour: 10, concurrentJobs: 10 },
      defaultBenchmark,
    });
  }

  it('records and queues the benchmark a job names', async () => {
    const { job } = await enqueue().execute(alice, { submissionId: 'sub-a', benchmark: 'digits' });
    expect(job.benchmark).toBe('digits');
    expect(queue.pending.get(job.jobId)?.benchmark).toBe('digits');
  });

  it('uses DEFAULT_BENCHMARK when the job names none, and null opts out of it', async () => {
    const useCase = enqueue('mnist-lite');
    expect((await useCase.execute(alice, { submissionId: 'sub-a' })).job.benchmark).toBe('mnist-lite');
    expect((await useCase.execute(alice, { submissionId: 'sub-a', benchmark: null })).job.benchmark).toBeNull();
    expect((await enqueue().execute(alice, { submissionId: 'sub-a', idempotencyKey: 'k' })).job.benchmark).toBeNull();
  });

  it('makes another job for the same submission on another benchmark', async () => {
    const useCase = enqueue();
    const plain = await useCase.execute(alice, { submissionId: 'sub-a', benchmark: null });
    const onDigits = await useCase.execute(alice, { submissionId: 'sub-a', benchmark: 'digits' });
    const again = await useCase.execute(alice, { submissionId: 'sub-a', benchmark: 'digits' });
    expect(onDigits.job.jobId).not.toBe(plain.job.jobId);
    expect(again).toEqual({ job: onDigits.job, created: false });
  });

  it.each([
    ['Digits', 'benchmark "Digits" does not exist; known benchmarks: broken, digits, mnist-lite'],
    ['../digits', 'benchmark "../digits" does not exist; known benchmarks: broken, digits, mnist-lite'],
    ['broken', 'benchmark broken is unavailable: broken/benchmark.yaml: order must be asc or desc'],
  ])('refuses benchmark %j with a 400 that names the choices, creating nothing', async (benchmark, message) => {
    await expect(enqueue().execute(alice, { submissionId: 'sub-a', benchmark })).rejects.toThrow(new Invalid([message]));
    expect(queue.pending.size).toBe(0);
    expect((await status.list(undefined, 0, 10)).total).toBe(0);
  });

  it('refuses a benchmark that is not a string', async () => {
    await expect(enqueue().execute(alice, { submissionId: 'sub-a', benchmark: 7 as unknown as string })).rejects.toThrow(
      'benchmark must be a benchmark id (a string) or null',
    );
  });
});
