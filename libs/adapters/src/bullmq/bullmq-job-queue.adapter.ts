import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { JobPayload, JobQueuePort, QueueState, Unavailable } from '@app/domain';
import { DISCONNECT_TIMEOUT_MS } from '../redis/redis-client';
import { bullPrefix, JOB_QUEUE_NAME } from './job-queue';

const DAY_SECONDS = 24 * 3600;

/** Producer side of the job queue. The job status hash is the record; BullMQ only delivers. */
export class BullMqJobQueueAdapter extends JobQueuePort {
  readonly queue: Queue;
  private readonly connection: Redis;

  constructor(redisUrl: string, redisPrefix: string) {
    super();
    // A bounded retry count makes POST /jobs fail fast (503) instead of hanging while Redis is down.
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 3000, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
    this.queue = new Queue(JOB_QUEUE_NAME, { connection: this.connection, prefix: bullPrefix(redisPrefix) });
    // Connection errors surface as Unavailable on each call and in /healthz; the events add nothing.
    this.queue.on('error', () => undefined);
  }

  async enqueue(payload: JobPayload): Promise<void> {
    try {
      await this.queue.add('run', payload, {
        jobId: payload.job_id,
        removeOnComplete: { age: DAY_SECONDS, count: 1000 },
        removeOnFail: { age: 7 * DAY_SECONDS },
      });
    } catch (error) {
      throw new Unavailable(`the job queue is unreachable (${(error as Error).message})`);
    }
  }

  async removePending(jobId: string): Promise<boolean> {
    const job = await this.queue.getJob(jobId);
    if (!job) return false;
    const state = await job.getState();
    if (!['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) return false;
    try {
      await job.remove();
      return true;
    } catch {
      // A worker took it between the state check and the removal.
      return false;
    }
  }

  async state(jobId: string): Promise<QueueState> {
    const job = await this.queue.getJob(jobId);
    if (!job) return 'missing';
    const state = await job.getState();
    switch (state) {
      case 'active':
      case 'delayed':
      case 'completed':
      case 'failed':
        return state;
      case 'unknown':
        return 'missing';
      default:
        return 'waiting';
    }
  }

  async close(): Promise<void> {
    if (this.connection.status !== 'ready') this.connection.disconnect();
    await this.queue.close().catch(() => undefined);
    await this.connection.quit().catch(() => undefined);
  }
}
