import Redis from 'ioredis';
import { ReplyError } from 'ioredis';
import { Unavailable } from '@app/domain';

/**
 * How long disconnect() waits for the socket to close before destroying it. ioredis arms this timer
 * even for a socket a failed reconnect already closed, and its 2 s default then holds the process
 * open after shutdown (Jest's "did not exit" warning); our clients never need a graceful drain there.
 */
export const DISCONNECT_TIMEOUT_MS = 100;

/** A client that fails a command within seconds when Redis is down, so requests answer 503, not hang. */
export function createRedisClient(url: string): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 2,
    connectTimeout: 3000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
  // Failures reach callers as Unavailable and show in /healthz; unhandled 'error' events would only spam.
  client.on('error', () => undefined);
  return client;
}

/**
 * Replies that mean "Redis is not serving yet", not "your command is wrong": a restarted server
 * answers LOADING while it reads its AOF, a replica MASTERDOWN or READONLY, a busy script BUSY.
 */
const NOT_SERVING = /^(LOADING|BUSY|MASTERDOWN|READONLY|TRYAGAIN|CLUSTERDOWN)\b/;

/** Runs a Redis call, turning connection failures into the domain's Unavailable. */
export async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ReplyError && !NOT_SERVING.test((error as Error).message)) throw error;
    throw new Unavailable(`Redis is unreachable (${(error as Error).message}); try again shortly`);
  }
}
