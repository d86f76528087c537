import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

/** Tests share this machine's Redis: each suite gets its own key prefix and deletes only its keys. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';
}

export function uniquePrefix(suite: string): string {
  return `lbtest:${suite}:${randomBytes(4).toString('hex')}`;
}

export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * Ends a client whose server is gone. Not disconnect(): between retries its socket is already closed, yet
 * ioredis arms a 2 s timer to destroy it, and that timer keeps Jest from exiting. Without retries, the
 * client's next attempt fails and ends it.
 */
export async function endUnreachable(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise((resolve) => client.once('end', resolve));
  client.options.retryStrategy = () => null;
  await ended;
}
