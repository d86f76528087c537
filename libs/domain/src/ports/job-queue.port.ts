import { JobPayload } from '../model/job';

export type QueueState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed' | 'missing';

/** The queue workers consume. The payload's job_id is the queue's job id, so adding twice is a no-op. */
export abstract class JobQueuePort {
  abstract enqueue(payload: JobPayload): Promise<void>;
  /** Takes a job off the queue if no worker has started it; true when it was removed. */
  abstract removePending(jobId: string): Promise<boolean>;
  /** Where the queue has the job; 'missing' when it holds no such job (removed, lost, never added). */
  abstract state(jobId: string): Promise<QueueState>;
}
