import Redis from 'ioredis';
import { Unavailable } from '@app/domain';
import { deleteKeys, endUnreachable, testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { leaderboardContract } from '../../../domain/test/contracts/leaderboard.contract';
import { createRedisClient } from './redis-client';
import { RedisLeaderboardAdapter } from './redis-leaderboard.adapter';

describe('RedisLeaderboardAdapter (real Redis)', () => {
  const prefix = uniquePrefix('leaderboard');
  let redis: Redis;

  beforeAll(() => {
    redis = createRedisClient(testRedisUrl());
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  leaderboardContract(async () => new RedisLeaderboardAdapter(redis, `${prefix}:${Math.random().toString(36).slice(2)}`));

  const finishedAt = '2026-01-01T00:00:00.000Z';
  const sample = { benchmarkId: 'digits', submissionId: 's', scores: { auc: 0.5 }, score: 0.5, finishedAt, runId: null, experimentId: null };

  it('keeps the board under the prefix without a TTL, and leaves no build keys after replace', async () => {
    const own = `${prefix}:keys`;
    const board = new RedisLeaderboardAdapter(redis, own);
    await board.record({ ...sample, jobId: 'j1', userId: 'alice' }, 'desc');
    await board.replace('digits', 'desc', [{ ...sample, jobId: 'j2', userId: 'bob' }]);
    const keys = (await redis.keys(`${own}:*`)).sort();
    expect(keys).toEqual(
      ['all', 'best', 'best-of', 'entries', 'jobs', 'user:bob'].map((part) => `${own}:board:digits:${part}`),
    );
    for (const key of keys) expect(await redis.ttl(key)).toBe(-1);
  });

  it('drops the per-user keys of users who leave the board', async () => {
    const own = `${prefix}:users`;
    const board = new RedisLeaderboardAdapter(redis, own);
    await board.record({ ...sample, jobId: 'j1', userId: 'alice' }, 'desc');
    await board.record({ ...sample, jobId: 'j1', userId: 'bob' }, 'desc');
    expect(await redis.exists(`${own}:board:digits:user:alice`)).toBe(0);
    expect(await redis.hkeys(`${own}:board:digits:best-of`)).toEqual(['bob']);
  });

  it('raises Unavailable when Redis cannot be reached', async () => {
    const down = createRedisClient('redis://127.0.0.1:1/0');
    await expect(new RedisLeaderboardAdapter(down, prefix).page('digits', { all: false, offset: 0, limit: 5 })).rejects.toBeInstanceOf(Unavailable);
    await endUnreachable(down);
  });
});
