import Redis from 'ioredis';
import { CancelSignalPort } from '@app/domain';
import { redisCall } from './redis-client';

/** Cancel broadcasts over Redis pub/sub on `{prefix}:cancel`; every worker hears every cancel. */
export class RedisCancelSignalAdapter extends CancelSignalPort {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    super();
  }

  async publish(jobId: string): Promise<void> {
    await redisCall(() => this.redis.publish(this.channel(), jobId));
  }

  async subscribe(handler: (jobId: string) => void): Promise<() => Promise<void>> {
    // A subscribed connection can do nothing else, so each subscription gets its own.
    const subscriber = this.redis.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, jobId: string) => {
      if (channel === this.channel()) handler(jobId);
    });
    await redisCall(() => subscriber.subscribe(this.channel()));
    return async () => {
      await subscriber.quit().catch(() => subscriber.disconnect());
    };
  }

  private channel(): string {
    return `${this.prefix}:cancel`;
  }
}
