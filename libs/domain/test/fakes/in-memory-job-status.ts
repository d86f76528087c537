import { Admission, isFinal, Job, JobChange, JobLimits, JobPage, JobStatusPort, NewJob, NotFound } from '@app/domain';

/** JobStatusPort in a Map; single-threaded JavaScript makes each call atomic like the Redis script. */
export class InMemoryJobStatus extends JobStatusPort {
  private readonly jobs = new Map<string, Job>();
  private readonly createdAtMs = new Map<string, number>();

  async create(job: NewJob, limits: JobLimits, now: number): Promise<Admission> {
    const existing = this.jobs.get(job.jobId);
    if (existing) return { outcome: 'existing', job: { ...existing } };
    const mine = [...this.jobs.values()].filter((other) => other.userId === job.userId);
    const unfinished = mine.filter((other) => !isFinal(other.status)).length;
    if (unfinished >= limits.concurrentJobs) {
      return { outcome: 'rate_limited', limit: 'concurrent', retryAfterSeconds: 30, current: unfinished };
    }
    const recent = mine
      .map((other) => this.createdAtMs.get(other.jobId) ?? 0)
      .filter((created) => created > now - 3600_000)
      .sort((a, b) => a - b);
    if (recent.length >= limits.jobsPerHour) {
      const retryAfterSeconds = Math.max(1, Math.ceil((recent[0] + 3600_000 - now) / 1000));
      return { outcome: 'rate_limited', limit: 'hourly', retryAfterSeconds, current: recent.length };
    }
    const created: Job = {
      ...job,
      status: 'pending',
      updatedAt: job.createdAt,
      runId: null,
      experimentId: null,
      startedAt: null,
      finishedAt: null,
      errorMessage: null,
      scores: null,
    };
    this.jobs.set(job.jobId, created);
    this.createdAtMs.set(job.jobId, now);
    return { outcome: 'created', job: { ...created } };
  }

  async update(jobId: string, change: JobChange): Promise<Job> {
    const job = this.jobs.get(jobId);
    if (!job) throw new NotFound(`job ${jobId} does not exist`);
    if (isFinal(job.status)) return { ...job };
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined));
    const updated: Job = { ...job, ...defined, updatedAt: new Date().toISOString() };
    this.jobs.set(jobId, updated);
    return { ...updated };
  }

  async get(jobId: string): Promise<Job | undefined> {
    const job = this.jobs.get(jobId);
    return job && { ...job };
  }

  async list(userId: string | undefined, offset: number, limit: number): Promise<JobPage> {
    const matching = [...this.jobs.values()]
      .filter((job) => userId === undefined || job.userId === userId)
      .sort((a, b) => (this.createdAtMs.get(b.jobId) ?? 0) - (this.createdAtMs.get(a.jobId) ?? 0));
    return { jobs: matching.slice(offset, offset + limit).map((job) => ({ ...job })), total: matching.length };
  }

  async listUnfinished(): Promise<Job[]> {
    return [...this.jobs.values()].filter((job) => !isFinal(job.status)).map((job) => ({ ...job }));
  }

  async remove(jobId: string): Promise<void> {
    this.jobs.delete(jobId);
    this.createdAtMs.delete(jobId);
  }
}
