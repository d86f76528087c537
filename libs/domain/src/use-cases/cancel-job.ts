import { Conflict } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { isFinal, Job } from '../model/job';
import { CancelSignalPort } from '../ports/cancel-signal.port';
import { JobQueuePort } from '../ports/job-queue.port';
import { JobStatusPort } from '../ports/job-status.port';
import { GetJobStatus } from './get-job-status';

/** Cancels a pending job (off the queue) or a running one (its worker kills the run). */
export class CancelJob {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly status: JobStatusPort,
    private readonly queue: JobQueuePort,
    private readonly signal: CancelSignalPort,
  ) {}

  async execute(caller: Caller, jobId: string): Promise<Job> {
    const job = await this.jobs.execute(caller, jobId);
    if (isFinal(job.status)) throw new Conflict(`job ${jobId} is already ${job.status}; only pending or running jobs can be cancelled`);

    const removed = job.status === 'pending' && (await this.queue.removePending(jobId));
    const message = removed ? `cancelled by ${caller.userId} before it started` : `cancelled by ${caller.userId}`;
    const cancelled = await this.status.update(jobId, { status: 'cancelled', errorMessage: message });
    if (cancelled.status !== 'cancelled') {
      throw new Conflict(`job ${jobId} ${cancelled.status} before it could be cancelled`);
    }
    // Whoever holds the run kills it; workers also notice the final status on their own poll.
    if (!removed) await this.signal.publish(jobId);
    return cancelled;
  }
}
