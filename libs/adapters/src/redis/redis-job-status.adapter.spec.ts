import Redis from 'ioredis';
import { Unavailable } from '@app/domain';
import { deleteKeys, endUnreachable, testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { jobStatusContract } from '../../../domain/test/contracts/job-status.contract';
import { createRedisClient } from './redis-client';
import { JOB_TTL_SECONDS, RedisJobStatusAdapter } from './redis-job-status.adapter';

describe('RedisJobStatusAdapter (real Redis)', () => {
  const prefix = uniquePrefix('job-status');
  let redis: Redis;

  beforeAll(() => {
    redis = createRedisClient(testRedisUrl());
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  jobStatusContract(async () => new RedisJobStatusAdapter(redis, `${prefix}:${Math.random().toString(36).slice(2)}`));

  it('stores the job as the hash the contract names, with a 90-day TTL', async () => {
    const adapter = new RedisJobStatusAdapter(redis, prefix);
    await adapter.create(
      { jobId: 'j1', submissionId: 's1', userId: 'alice', entrypoint: 'main.py', configFile: null, config: {}, resourceClass: 'small', benchmark: null, createdAt: 'now' },
      { jobsPerHour: 5, concurrentJobs: 5 },
      Date.now(),
    );
    const hash = await redis.hgetall(`${prefix}:job:j1`);
    expect(hash).toMatchObject({ status: 'pending', submission_id: 's1', user_id: 'alice', run_id: '', error_message: '' });
    const ttl = await redis.ttl(`${prefix}:job:j1`);
    expect(ttl).toBeGreaterThan(JOB_TTL_SECONDS - 60);
  });

  it('raises Unavailable when Redis cannot be reached', async () => {
    const down = createRedisClient('redis://127.0.0.1:1/0');
    down.on('error', () => undefined);
    await expect(new RedisJobStatusAdapter(down, prefix).get('x')).rejects.toBeInstanceOf(Unavailable);
    await endUnreachable(down);
  });
});
