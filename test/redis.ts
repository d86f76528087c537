import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
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

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A throwaway redis-server on `port`. With `aofDir` it keeps its keys in an AOF there, so a restart
 * loses nothing; without, it keeps nothing on disk and a restart loses every key.
 */
export async function startRedisServer(port: number, options: { aofDir?: string } = {}): Promise<ChildProcess> {
  const persistence = options.aofDir ? ['--appendonly', 'yes', '--dir', options.aofDir] : ['--appendonly', 'no'];
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await acceptsConnections(port)) return redis;
    await sleep(50);
  }
  throw new Error(`redis-server did not start on ${port}`);
}

/** SIGTERM lets Redis write its AOF and exit, as on an operator's restart; SIGKILL is a crash. */
export async function stopRedisServer(redis: ChildProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (redis.exitCode !== null) return;
  const exited = new Promise((resolve) => redis.once('exit', resolve));
  redis.kill(signal);
  await exited;
}
