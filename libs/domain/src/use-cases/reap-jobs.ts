import { toPayload } from '../model/job';
import { ClockPort } from '../ports/clock.port';
import { JobQueuePort } from '../ports/job-queue.port';
import { JobStatusPort } from '../ports/job-status.port';

export interface ReapReport {
  requeued: string[];
  failed: string[];
}

/**
 * Settles jobs whose status says pending/running but that the queue no longer carries forward,
 * so no job waits forever. Jobs younger than `graceMs` are left alone: they may be mid-admission.
 */
export class ReapJobs {
  constructor(
    private readonly status: JobStatusPort,
    private readonly queue: JobQueuePort,
    private readonly clock: ClockPort,
    private readonly graceMs: number,
  ) {}

  async execute(): Promise<ReapReport> {
    const report: ReapReport = { requeued: [], failed: [] };
    const now = this.clock.now();
    for (const job of await this.status.listUnfinished()) {
      if (now - Date.parse(job.updatedAt) < this.graceMs) continue;
      const state = await this.queue.state(job.jobId);
      if (state === 'waiting' || state === 'active' || state === 'delayed') continue;
      // A job whose code ran and whose outcome waits in its record (`finishing`) goes back to the
      // queue too: the worker that takes it publishes that outcome without running the code again.
      if ((job.status === 'pending' || job.finishing) && state === 'missing') {
        await this.queue.enqueue(toPayload(job));
        report.requeued.push(job.jobId);
        continue;
      }
      const reason = state === 'missing' ? 'the queue no longer holds it' : `the queue marked it ${state}`;
      const settled = await this.status.update(job.jobId, {
        status: 'failed',
        errorMessage: `worker lost: ${reason} while its status was ${job.status}`,
        finishedAt: new Date(now).toISOString(),
      });
      if (settled.status === 'failed') report.failed.push(job.jobId);
    }
    return report;
  }
}
