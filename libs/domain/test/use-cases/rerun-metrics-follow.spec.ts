import {
  Caller,
  Conflict,
  EnqueueJob,
  FollowJobLog,
  Forbidden,
  GetJobMetrics,
  GetJobStatus,
  Invalid,
  METRIC_HISTORY_LIMITS,
  NotFound,
  RateLimited,
  RerunJob,
  Unavailable,
} from '@app/domain';
import { available, InMemoryBenchmarkCatalog, sampleBenchmark } from '../fakes/in-memory-benchmark-catalog';
import { FixedClock } from '../fakes/fixed-clock';
import { InMemoryJobQueue } from '../fakes/in-memory-job-queue';
import { InMemoryJobStatus } from '../fakes/in-memory-job-status';
import { InMemoryStorage } from '../fakes/in-memory-storage';
import { InMemoryTracking } from '../fakes/in-memory-tracking';
import { SequentialIds } from '../fakes/sequential-ids';

const alice = new Caller('alice', false);
const bob = new Caller('bob', false);
const admin = new Caller('root', true);

describe('RerunJob, GetJobMetrics and FollowJobLog', () => {
  let storage: InMemoryStorage;
  let status: InMemoryJobStatus;
  let queue: InMemoryJobQueue;
  let tracking: InMemoryTracking;
  let benchmarks: InMemoryBenchmarkCatalog;
  let enqueue: EnqueueJob;
  let rerun: RerunJob;
  let metrics: GetJobMetrics;
  let originalId: string;

  function build(listings = [available(sampleBenchmark({ id: 'digits' }))]) {
    benchmarks = new InMemoryBenchmarkCatalog(listings);
    const ids = new SequentialIds();
    enqueue = new EnqueueJob(storage, status, queue, ids, new FixedClock(), benchmarks, {
      limits: { jobsPerHour: 3, concurrentJobs: 3 },
      defaultBenchmark: null,
    });
    const jobs = new GetJobStatus(status);
    rerun = new RerunJob(jobs, storage, enqueue, ids);
    metrics = new GetJobMetrics(jobs, tracking);
  }

  beforeEach(async () => {
    storage = new InMemoryStorage();
    status = new InMemoryJobStatus();
    queue = new InMemoryJobQueue();
    tracking = new InMemoryTracking();
    build();
    await storage.saveMetadata({
      submissionId: 'sub-a',
      userId: 'alice',
      entrypoint: 'train.py',
      configFile: 'config.yaml',
      files: ['config.yaml', 'train.py'],
      metadata: {},
      createdAt: '2026-01-01T00:00:00Z',
    });
    const { job } = await enqueue.execute(alice, { submissionId: 'sub-a', config: { lr: 0.1 }, resourceClass: 'medium', benchmark: 'digits' });
    originalId = job.jobId;
  });

  it('re-runs as a new job with the same submission, config, class and benchmark', async () => {
    const { job, created } = await rerun.execute(alice, originalId);
    expect(created).toBe(true);
    expect(job.jobId).not.toBe(originalId);
    expect(job).toMatchObject({ status: 'pending', userId: 'alice', submissionId: 'sub-a', config: { lr: 0.1 }, resourceClass: 'medium', benchmark: 'digits' });
    expect(queue.pending.has(job.jobId)).toBe(true);
    const again = await rerun.execute(alice, originalId);
    expect(again.job.jobId).not.toBe(job.jobId);
  });

  it("lets an admin re-run a user's job, which stays the user's and counts against the user's limits", async () => {
    const { job } = await rerun.execute(admin, originalId);
    expect(job.userId).toBe('alice');
    await rerun.execute(admin, originalId);
    await expect(rerun.execute(alice, originalId)).rejects.toBeInstanceOf(RateLimited);
  });

  it('refuses other users, unknown jobs, deleted submissions and a benchmark that went away', async () => {
    await expect(rerun.execute(bob, originalId)).rejects.toBeInstanceOf(Forbidden);
    await expect(rerun.execute(alice, 'job-x')).rejects.toBeInstanceOf(NotFound);
    build([]);
    await expect(rerun.execute(alice, originalId)).rejects.toThrow(Conflict);
    await expect(rerun.execute(alice, originalId)).rejects.toThrow(/benchmark "digits" does not exist/);
    await storage.remove('sub-a');
    await expect(rerun.execute(alice, originalId)).rejects.toThrow(/submission sub-a was deleted/);
  });

  it('reads every metric history of the run, official leaderboard.* keys included', async () => {
    const { runId, experimentId } = await tracking.startRun('exp', 'run', {});
    await status.update(originalId, { status: 'running', runId, experimentId });
    await tracking.logMetrics(runId, [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), step, timestamp: 100 + step })));
    await tracking.logMetrics(runId, [{ key: 'leaderboard.auc', value: 0.9, step: 0, timestamp: 200 }]);
    const result = await metrics.execute(alice, originalId);
    expect(result).toMatchObject({ runId, truncated: [], omitted: [] });
    expect(result.metrics).toEqual({
      'leaderboard.auc': [{ step: 0, value: 0.9, timestamp: 200 }],
      loss: [
        { step: 0, value: 1, timestamp: 100 },
        { step: 1, value: 0.5, timestamp: 101 },
        { step: 2, value: 1 / 3, timestamp: 102 },
      ],
    });
    expect((await metrics.execute(admin, originalId)).runId).toBe(runId);
    await expect(metrics.execute(bob, originalId)).rejects.toBeInstanceOf(Forbidden);
  });

  it('caps points per metric and the number of metrics, naming what it left out', async () => {
    const { runId, experimentId } = await tracking.startRun('exp', 'run', {});
    await status.update(originalId, { status: 'running', runId, experimentId });
    const many = Array.from({ length: METRIC_HISTORY_LIMITS.metrics + 2 }, (_, index) => ({ key: `m${String(index).padStart(3, '0')}`, value: index }));
    await tracking.logMetrics(runId, many);
    await tracking.logMetrics(runId, Array.from({ length: METRIC_HISTORY_LIMITS.pointsPerMetric + 1 }, (_, step) => ({ key: 'm000', value: step, step })));
    const result = await metrics.execute(alice, originalId);
    expect(Object.keys(result.metrics)).toHaveLength(METRIC_HISTORY_LIMITS.metrics);
    expect(result.metrics.m000).toHaveLength(METRIC_HISTORY_LIMITS.pointsPerMetric);
    expect(result.truncated).toEqual(['m000']);
    expect(result.omitted).toEqual(['m100', 'm101']);
  });

  it('is a 409 without a run and a 503 that says what still works while the tracker is down', async () => {
    await expect(metrics.execute(alice, originalId)).rejects.toThrow(/no metrics yet: it is pending/);
    await status.update(originalId, { status: 'running', runId: 'f'.repeat(32), experimentId: '1' });
    await expect(metrics.execute(alice, originalId)).rejects.toBeInstanceOf(Conflict);
    tracking.unavailable = true;
    const error = await metrics.execute(alice, originalId).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toMatch(/^the tracking server is unavailable: .*; the job's status and logs still work$/);
  });

  it('FollowJobLog: checks the offset and the caller like the logs route', async () => {
    const follow = new FollowJobLog(new GetJobStatus(status), storage);
    expect(await follow.execute(alice, originalId, 0)).toMatchObject({ job: { jobId: originalId }, size: 0 });
    storage.writeLog(originalId, 'hello\n');
    expect((await follow.execute(alice, originalId, 3)).size).toBe(6);
    await expect(follow.execute(alice, originalId, -1)).rejects.toBeInstanceOf(Invalid);
    await expect(follow.execute(alice, originalId, 2 ** 41)).rejects.toBeInstanceOf(Invalid);
    await expect(follow.execute(bob, originalId, 0)).rejects.toBeInstanceOf(Forbidden);
    await expect(follow.execute(alice, 'job-x', 0)).rejects.toBeInstanceOf(NotFound);
  });
});
