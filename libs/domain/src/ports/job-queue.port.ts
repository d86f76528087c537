import { JobPayload } from '../model/job';

/** The queue workers consume. The payload's job_id is the queue's job id, so adding twice is a no-op. */
export abstract class JobQueuePort {
  abstract enqueue(payload: JobPayload): Promise<void>;
  /** Takes a job off the queue if no worker has started it; true when it was removed. */
  abstract removePending(jobId: string): Promise<boolean>;
}
