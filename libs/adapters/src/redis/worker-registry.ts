import Redis from 'ioredis';

/** What a worker tells the world about itself, refreshed while it lives. */
export interface WorkerInfo {
  id: string;
  sandbox: string;
  concurrency: number;
  gpus: string[];
  running: string[];
  startedAt: string;
}

export const HEARTBEAT_TTL_SECONDS = 30;

/** Worker heartbeats as `{prefix}:worker:{id}` keys that expire when a worker stops refreshing. */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async announce(info: WorkerInfo): Promise<void> {
    await this.redis.set(this.key(info.id), JSON.stringify(info), 'EX', HEARTBEAT_TTL_SECONDS);
  }

  async withdraw(id: string): Promise<void> {
    await this.redis.del(this.key(id));
  }

  async list(): Promise<WorkerInfo[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', this.key('*'), 'COUNT', 200);
      keys.push(...found);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values.filter((value): value is string => value !== null).map((value) => JSON.parse(value) as WorkerInfo);
  }

  private key(id: string): string {
    return `${this.prefix}:worker:${id}`;
  }
}
