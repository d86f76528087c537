import Redis from 'ioredis';
import { LoginThrottlePort, ThrottleVerdict } from '@app/domain';
import { redisCall } from './redis-client';

/** KEYS: the client's failure counter. ARGV: failures per window, window ms. Returns {allowed, ms left}. */
const RECORD_FAILURE = `
local ttl = redis.call('PTTL', KEYS[1])
if ttl == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
if tonumber(redis.call('GET', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return {0, ttl} end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, 0}
`;

/**
 * Failed logins per client in `{prefix}:login-failures:{client}`, a counter that expires with its
 * window, so every API process sees the same count and nothing outlives the window.
 */
export class RedisLoginThrottleAdapter extends LoginThrottlePort {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limits: { failuresPerWindow: number; windowSeconds: number },
  ) {
    super();
  }

  /** On every authenticated request: two plain reads in one round trip, no script to hash. */
  async check(client: string): Promise<ThrottleVerdict> {
    const key = this.key(client);
    const [count, ttl] = await redisCall(async () => {
      const replies = (await this.redis.pipeline().get(key).pttl(key).exec()) ?? [];
      for (const [error] of replies) if (error) throw error;
      return replies.map(([, value]) => Number(value ?? 0));
    });
    return verdict(count < this.limits.failuresPerWindow ? [1, 0] : [0, ttl]);
  }

  async recordFailure(client: string): Promise<ThrottleVerdict> {
    const windowMs = this.limits.windowSeconds * 1000;
    return verdict(await redisCall(() => this.redis.eval(RECORD_FAILURE, 1, this.key(client), this.limits.failuresPerWindow, windowMs)));
  }

  private key(client: string): string {
    return `${this.prefix}:login-failures:${client}`;
  }
}

function verdict(reply: unknown): ThrottleVerdict {
  const [allowed, millisecondsLeft] = reply as [number, number];
  if (allowed === 1) return { allowed: true };
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(millisecondsLeft / 1000)) };
}
