import { Admission, isFinal, Job, JobChange, JobLimits, JobPage, JobStatusPort, NewJob, NotFound, Unavailable } from '@app/domain';

/**
 * JobStatusPort in a Map; single-threaded JavaScript makes each call atomic like the Redis script.
 * `unavailable` simulates a Redis outage: every call throws Unavailable as the Redis adapter does.
 */
export class InMemoryJobStatus extends JobStatusPort {
  unavailable = false;
  private readonly jobs = new Map<string, Job>();
  private readonly createdAtMs = new Map<string, number>();

  private checkAvailable(): void {
    if (this.unavailable) throw new Unavailable('Redis is unreachable (connect ECONNREFUSED memory://); try again shortly');
  }

  async create(job: NewJob, limits: JobLimits, now: number): Promise<Admission> {
    this.checkAvailable();
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
    this.checkAvailable();
    if (!job) throw new NotFound(`job ${jobId} does not exist`);
    if (isFinal(job.status)) return { ...job };
    const defined = Object.fromEntries(Object.entries(change).filter(([, value]) => value !== undefined));
    const updated = { ...job, ...defined, updatedAt: new Date().toISOString() } as Job;
    // Like the Redis hash, a cleared marker is simply absent.
    if (change.finishing === null) delete updated.finishing;
    this.jobs.set(jobId, updated);
    return { ...updated };
  }

  async get(jobId: string): Promise<Job | undefined> {
    this.checkAvailable();
    const job = this.jobs.get(jobId);
    return job && { ...job };
  }

  async list(userId: string | undefined, offset: number, limit: number): Promise<JobPage> {
    this.checkAvailable();
    const matching = [...this.jobs.values()]
      .filter((job) => userId === undefined || job.userId === userId)
      .sort((a, b) => (this.createdAtMs.get(b.jobId) ?? 0) - (this.createdAtMs.get(a.jobId) ?? 0));
    return { jobs: matching.slice(offset, offset + limit).map((job) => ({ ...job })), total: matching.length };
  }

  async listUnfinished(): Promise<Job[]> {
    this.checkAvailable();
    return [...this.jobs.values()].filter((job) => !isFinal(job.status)).map((job) => ({ ...job }));
  }

  async remove(jobId: string): Promise<void> {
    this.checkAvailable();
    this.jobs.delete(jobId);
    this.createdAtMs.delete(jobId);
  }
}
