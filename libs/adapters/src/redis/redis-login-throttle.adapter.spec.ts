import Redis from 'ioredis';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { loginThrottleContract } from '../../../domain/test/contracts/login-throttle.contract';
import { createRedisClient } from './redis-client';
import { RedisLoginThrottleAdapter } from './redis-login-throttle.adapter';

describe('RedisLoginThrottleAdapter (real Redis)', () => {
  let redis: Redis;
  const prefixes: string[] = [];
  beforeAll(() => {
    redis = createRedisClient(testRedisUrl());
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deleteKeys(redis, prefix);
    await redis.quit();
  });

  loginThrottleContract(async (limits) => {
    const prefix = uniquePrefix('login-throttle');
    prefixes.push(prefix);
    return {
      throttle: new RedisLoginThrottleAdapter(redis, prefix, limits),
      elapse: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
    };
  });

  it('keeps each counter under the prefix with a TTL no longer than the window', async () => {
    const prefix = uniquePrefix('login-throttle');
    prefixes.push(prefix);
    const throttle = new RedisLoginThrottleAdapter(redis, prefix, { failuresPerWindow: 20, windowSeconds: 300 });
    await throttle.recordFailure('2001:db8::/64');
    const ttl = await redis.pttl(`${prefix}:login-failures:2001:db8::/64`);
    expect(ttl).toBeGreaterThan(299_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
  });
});
