import { JobPayload, JobQueuePort, QueueState } from '@app/domain';

/** A queue that remembers what was added; `failNext` simulates a queue outage. */
export class InMemoryJobQueue extends JobQueuePort {
  readonly pending = new Map<string, JobPayload>();
  /** States a test sets for jobs a worker would have taken. */
  readonly states = new Map<string, QueueState>();
  failNext = false;

  async enqueue(payload: JobPayload): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('queue connection lost');
    }
    if (!this.pending.has(payload.job_id)) this.pending.set(payload.job_id, payload);
  }

  async removePending(jobId: string): Promise<boolean> {
    if (this.states.has(jobId)) return false;
    return this.pending.delete(jobId);
  }

  async state(jobId: string): Promise<QueueState> {
    return this.states.get(jobId) ?? (this.pending.has(jobId) ? 'waiting' : 'missing');
  }
}
