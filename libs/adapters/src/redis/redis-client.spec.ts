import { ReplyError } from 'ioredis';
import { Unavailable } from '@app/domain';
import { redisCall } from './redis-client';

describe('redisCall', () => {
  it('turns a lost connection into Unavailable', async () => {
    const error = await redisCall(() => Promise.reject(new Error('Connection is closed.'))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Error).message).toBe('Redis is unreachable (Connection is closed.); try again shortly');
  });

  it('turns "not serving yet" replies (a restarted Redis loading its AOF) into Unavailable', async () => {
    const loading = new ReplyError('LOADING Redis is loading the dataset in memory');
    await expect(redisCall(() => Promise.reject(loading))).rejects.toBeInstanceOf(Unavailable);
  });

  it('passes on replies that are the command’s fault', async () => {
    const wrong = new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value');
    await expect(redisCall(() => Promise.reject(wrong))).rejects.toBe(wrong);
  });
});
