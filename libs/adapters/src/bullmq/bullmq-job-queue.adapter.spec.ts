import Redis from 'ioredis';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { jobQueueContract } from '../../../domain/test/contracts/job-queue.contract';
import { BullMqJobQueueAdapter } from './bullmq-job-queue.adapter';

describe('BullMqJobQueueAdapter (real Redis)', () => {
  const prefix = uniquePrefix('queue');
  const adapters: BullMqJobQueueAdapter[] = [];

  afterAll(async () => {
    for (const adapter of adapters) await adapter.close();
    const redis = new Redis(testRedisUrl());
    await deleteKeys(redis, prefix);
    await redis.quit();
  });

  jobQueueContract(async () => {
    const adapter = new BullMqJobQueueAdapter(testRedisUrl(), `${prefix}:${adapters.length}`);
    adapters.push(adapter);
    return adapter;
  });

  it('uses our job id as the BullMQ job id and carries the payload unchanged', async () => {
    const adapter = new BullMqJobQueueAdapter(testRedisUrl(), `${prefix}:payload`);
    adapters.push(adapter);
    const payload = { job_id: 'abc-123', submission_id: 's', entrypoint: 'main.py', config_file: 'c.yaml', config: { a: 1 }, resource_class: 'medium' as const };
    await adapter.enqueue(payload);
    const job = await adapter.queue.getJob('abc-123');
    expect(job?.data).toEqual(payload);
  });
});
