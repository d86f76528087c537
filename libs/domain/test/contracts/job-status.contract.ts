import { JobLimits, JobStatusPort, NewJob, NotFound } from '@app/domain';

const HOUR = 3600_000;
const roomy: JobLimits = { jobsPerHour: 100, concurrentJobs: 100 };

let counter = 0;
function newJob(overrides: Partial<NewJob> = {}): NewJob {
  counter += 1;
  return {
    jobId: `job-${Date.now()}-${counter}`,
    submissionId: 'sub-1',
    userId: 'alice',
    entrypoint: 'main.py',
    configFile: 'config.yaml',
    config: { lr: 0.1, nested: { depth: 2 } },
    resourceClass: 'small',
    benchmark: null,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

/** What every JobStatusPort must do; run against the in-memory fake and the Redis adapter. */
export function jobStatusContract(make: () => Promise<JobStatusPort>): void {
  let status: JobStatusPort;
  const now = Date.parse('2026-06-01T12:00:00Z');

  beforeEach(async () => {
    status = await make();
  });

  it('creates a pending job and reads it back whole', async () => {
    const job = newJob({ configFile: null });
    const admission = await status.create(job, roomy, now);
    expect(admission.outcome).toBe('created');
    const stored = await status.get(job.jobId);
    expect(stored).toMatchObject({ ...job, status: 'pending', runId: null, errorMessage: null, configFile: null });
  });

  it('returns the existing job for a second create with the same id', async () => {
    const job = newJob();
    await status.create(job, roomy, now);
    await status.update(job.jobId, { status: 'running' });
    const again = await status.create({ ...job, config: { other: true } }, roomy, now);
    expect(again).toMatchObject({ outcome: 'existing', job: { jobId: job.jobId, status: 'running', config: job.config } });
  });

  it('applies updates and records the error message', async () => {
    const job = newJob();
    await status.create(job, roomy, now);
    await status.update(job.jobId, { status: 'running', runId: 'run-1', experimentId: '7', startedAt: 'then' });
    const failed = await status.update(job.jobId, { status: 'failed', errorMessage: 'exit code 3: boom' });
    expect(failed).toMatchObject({ status: 'failed', runId: 'run-1', experimentId: '7', errorMessage: 'exit code 3: boom' });
  });

  it('keeps the benchmark and the official scores, numbers exactly as given', async () => {
    const job = newJob({ benchmark: 'digits-anomaly' });
    await status.create(job, roomy, now);
    expect(await status.get(job.jobId)).toMatchObject({ benchmark: 'digits-anomaly', scores: null });
    const scores = { image_AUROC: 0.9312345678901234, tiny: 5e-324, negative: -1.5 };
    const done = await status.update(job.jobId, { status: 'completed', scores });
    expect(done.scores).toEqual(scores);
    expect((await status.get(job.jobId))?.scores).toEqual(scores);
  });

  it('keeps the finishing marker of a run whose code ran, and clears it with the final status', async () => {
    const job = newJob();
    await status.create(job, roomy, now);
    expect((await status.get(job.jobId))?.finishing).toBeUndefined();
    const finishing = { status: 'completed' as const, errorMessage: null, runStatus: 'FINISHED' as const, scores: { auc: 0.25 }, finishedAt: '2026-06-01T12:00:05.000Z' };
    await status.update(job.jobId, { status: 'running', runId: 'run-1' });
    expect(await status.update(job.jobId, { finishing })).toMatchObject({ status: 'running', finishing });
    expect((await status.get(job.jobId))?.finishing).toEqual(finishing);
    const final = await status.update(job.jobId, { status: 'completed', finishing: null, scores: finishing.scores });
    expect(final.finishing).toBeUndefined();
    expect((await status.get(job.jobId))?.finishing).toBeUndefined();
  });

  it('never leaves a final state and writes nothing after it', async () => {
    const job = newJob();
    await status.create(job, roomy, now);
    await status.update(job.jobId, { status: 'cancelled' });
    const after = await status.update(job.jobId, { status: 'running', runId: 'late', errorMessage: 'late' });
    expect(after).toMatchObject({ status: 'cancelled', runId: null, errorMessage: null });
    expect((await status.get(job.jobId))?.status).toBe('cancelled');
  });

  it('throws NotFound when updating an unknown job', async () => {
    await expect(status.update('no-such-job', { status: 'running' })).rejects.toBeInstanceOf(NotFound);
    expect(await status.get('no-such-job')).toBeUndefined();
  });

  it('refuses a job past the concurrent limit and frees the slot when one finishes', async () => {
    const limits = { jobsPerHour: 100, concurrentJobs: 2 };
    const first = newJob();
    await status.create(first, limits, now);
    await status.create(newJob(), limits, now);
    const third = newJob();
    expect(await status.create(third, limits, now)).toMatchObject({ outcome: 'rate_limited', limit: 'concurrent', current: 2 });
    expect(await status.get(third.jobId)).toBeUndefined();
    await status.update(first.jobId, { status: 'completed' });
    expect((await status.create(third, limits, now)).outcome).toBe('created');
  });

  it('refuses a job past the hourly limit until the oldest leaves the rolling hour', async () => {
    const limits = { jobsPerHour: 2, concurrentJobs: 100 };
    await status.create(newJob(), limits, now);
    await status.create(newJob(), limits, now + 10 * 60_000);
    const late = newJob();
    const refused = await status.create(late, limits, now + 20 * 60_000);
    expect(refused).toMatchObject({ outcome: 'rate_limited', limit: 'hourly', retryAfterSeconds: 40 * 60 });
    expect((await status.create(late, limits, now + HOUR + 1)).outcome).toBe('created');
  });

  it('counts limits per user', async () => {
    const limits = { jobsPerHour: 1, concurrentJobs: 1 };
    await status.create(newJob({ userId: 'alice' }), limits, now);
    expect((await status.create(newJob({ userId: 'bob' }), limits, now)).outcome).toBe('created');
  });

  it('lets only one of many concurrent creates take the last slot', async () => {
    const limits = { jobsPerHour: 100, concurrentJobs: 1 };
    const results = await Promise.all(Array.from({ length: 10 }, () => status.create(newJob({ userId: 'racer' }), limits, now)));
    expect(results.filter((result) => result.outcome === 'created')).toHaveLength(1);
  });

  it('lists a user\'s jobs newest first with paging, and everyone\'s for admins', async () => {
    const user = `lister-${counter}`;
    const ids: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const job = newJob({ userId: user });
      ids.push(job.jobId);
      await status.create(job, roomy, now + index * 1000);
    }
    await status.create(newJob({ userId: 'someone-else' }), roomy, now);
    const page = await status.list(user, 1, 2);
    expect(page.total).toBe(5);
    expect(page.jobs.map((job) => job.jobId)).toEqual([ids[3], ids[2]]);
    const everyone = await status.list(undefined, 0, 100);
    expect(everyone.total).toBeGreaterThanOrEqual(6);
  });

  it('forgets a removed job and gives back its limit slots', async () => {
    const limits = { jobsPerHour: 1, concurrentJobs: 1 };
    const job = newJob({ userId: 'remover' });
    await status.create(job, limits, now);
    await status.remove(job.jobId);
    expect(await status.get(job.jobId)).toBeUndefined();
    expect((await status.list('remover', 0, 10)).total).toBe(0);
    expect((await status.create(newJob({ userId: 'remover' }), limits, now)).outcome).toBe('created');
  });

  it('lists exactly the pending and running jobs as unfinished', async () => {
    const pending = newJob();
    const running = newJob();
    const done = newJob();
    for (const job of [pending, running, done]) await status.create(job, roomy, now);
    await status.update(running.jobId, { status: 'running' });
    await status.update(done.jobId, { status: 'failed' });
    const ids = (await status.listUnfinished()).map((job) => job.jobId).sort();
    expect(ids).toEqual([pending.jobId, running.jobId].sort());
    await status.remove(pending.jobId);
    expect((await status.listUnfinished()).map((job) => job.jobId)).toEqual([running.jobId]);
  });
}
