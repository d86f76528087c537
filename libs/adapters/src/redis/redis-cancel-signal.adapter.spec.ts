import Redis from 'ioredis';
import { testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { cancelSignalContract } from '../../../domain/test/contracts/cancel-signal.contract';
import { createRedisClient } from './redis-client';
import { RedisCancelSignalAdapter } from './redis-cancel-signal.adapter';

describe('RedisCancelSignalAdapter (real Redis)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = createRedisClient(testRedisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });

  cancelSignalContract(async () => new RedisCancelSignalAdapter(redis, uniquePrefix('cancel')));
});
