import Redis from 'ioredis';
import { Admission, Job, JobChange, JobLimits, JobPage, JobStatusPort, NewJob, NotFound } from '@app/domain';
import { changeFields, jobFromHash, newJobFields, pairsToHash } from './job-hash';
import { CREATE_JOB, REMOVE_JOB, UPDATE_JOB } from './job-scripts';
import { redisCall } from './redis-client';

/** The default record TTL: JOB_RETENTION_DAYS' default, 90 days. */
export const JOB_TTL_SECONDS = 90 * 24 * 3600;

/** JOB_RETENTION_DAYS as the record's TTL in whole seconds (at least 1). */
export function retentionSeconds(days: number): number {
  return Math.max(1, Math.ceil(days * 24 * 3600));
}

/**
 * Job records in Redis: `{prefix}:job:{id}` hashes (TTL JOB_RETENTION_DAYS, default 90 days, from
 * creation), plus per-user indexes
 * `{prefix}:user:{user}:jobs` (zset, newest first listing and the hourly window) and
 * `{prefix}:user:{user}:unfinished` (set, the concurrent limit), `{prefix}:jobs` for admins and
 * `{prefix}:unfinished` (set) for the reaper.
 */
export class RedisJobStatusAdapter extends JobStatusPort {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = JOB_TTL_SECONDS,
  ) {
    super();
  }

  async create(job: NewJob, limits: JobLimits, now: number): Promise<Admission> {
    const fields = Object.entries(newJobFields(job, 'pending')).flat();
    const reply = (await redisCall(() =>
      this.redis.eval(
        CREATE_JOB,
        5,
        this.jobKey(job.jobId),
        this.userKey(job.userId, 'jobs'),
        this.userKey(job.userId, 'unfinished'),
        this.allJobsKey(),
        this.unfinishedKey(),
        now,
        limits.jobsPerHour,
        limits.concurrentJobs,
        this.ttlSeconds,
        job.jobId,
        this.jobKey(''),
        ...fields,
      ),
    )) as [string, ...unknown[]];
    if (reply[0] === 'rate_limited') {
      return {
        outcome: 'rate_limited',
        limit: reply[1] as 'hourly' | 'concurrent',
        retryAfterSeconds: Number(reply[2]),
        current: Number(reply[3]),
      };
    }
    const stored = jobFromHash(pairsToHash(reply[1] as string[]));
    if (!stored) throw new NotFound(`job ${job.jobId} vanished right after it was written`);
    return { outcome: reply[0] === 'created' ? 'created' : 'existing', job: stored };
  }

  async update(jobId: string, change: JobChange): Promise<Job> {
    const reply = (await redisCall(() =>
      this.redis.eval(UPDATE_JOB, 2, this.jobKey(jobId), this.unfinishedKey(), this.userKey('', ''), new Date().toISOString(), ...changeFields(change)),
    )) as string[] | null;
    const job = reply ? jobFromHash(pairsToHash(reply)) : undefined;
    if (!job) throw new NotFound(`job ${jobId} does not exist`);
    return job;
  }

  async get(jobId: string): Promise<Job | undefined> {
    return jobFromHash(await redisCall(() => this.redis.hgetall(this.jobKey(jobId))));
  }

  async list(userId: string | undefined, offset: number, limit: number): Promise<JobPage> {
    const index = userId === undefined ? this.allJobsKey() : this.userKey(userId, 'jobs');
    const [ids, total] = await redisCall(() =>
      Promise.all([this.redis.zrevrange(index, offset, offset + limit - 1), this.redis.zcard(index)]),
    );
    return { jobs: await this.getMany(ids), total };
  }

  /** Jobs in the order of `ids`; ids whose hash expired are left out. */
  private async getMany(ids: string[]): Promise<Job[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.jobKey(id));
    const replies = (await redisCall(() => pipeline.exec())) ?? [];
    return replies.map(([, hash]) => jobFromHash(hash as Record<string, string>)).filter((job): job is Job => job !== undefined);
  }

  async remove(jobId: string): Promise<void> {
    await redisCall(() =>
      this.redis.eval(REMOVE_JOB, 3, this.jobKey(jobId), this.allJobsKey(), this.unfinishedKey(), this.userKey('', ''), jobId),
    );
  }

  async listUnfinished(): Promise<Job[]> {
    const ids = await redisCall(() => this.redis.smembers(this.unfinishedKey()));
    return (await this.getMany(ids)).filter((job) => job.status === 'pending' || job.status === 'running');
  }

  private jobKey(jobId: string): string {
    return `${this.prefix}:job:${jobId}`;
  }

  /** With empty arguments this is the prefix the scripts complete as `{prefix}:user:{user}:{kind}`. */
  private userKey(userId: string, kind: string): string {
    return userId === '' ? `${this.prefix}:user:` : `${this.prefix}:user:${userId}:${kind}`;
  }

  private allJobsKey(): string {
    return `${this.prefix}:jobs`;
  }

  private unfinishedKey(): string {
    return `${this.prefix}:unfinished`;
  }
}
