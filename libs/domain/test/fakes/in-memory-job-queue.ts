import { JobPayload, JobQueuePort } from '@app/domain';

/** A queue that remembers what was added; `failNext` simulates a queue outage. */
export class InMemoryJobQueue extends JobQueuePort {
  readonly pending = new Map<string, JobPayload>();
  failNext = false;

  async enqueue(payload: JobPayload): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue connection lost');
    }
    if (!this.pending.has(payload.job_id)) this.pending.set(payload.job_id, payload);
  }

  async removePending(jobId: string): Promise<boolean> {
    return this.pending.delete(jobId);
  }
}
