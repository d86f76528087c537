import { Caller } from '../model/caller';
import { Job } from '../model/job';
import { StoragePort } from '../ports/storage.port';
import { GetJobStatus } from './get-job-status';
import { checkLogOffset } from './get-job-logs';

/** Followers of one job's live log, and of all jobs, that one API process serves at once. */
export const LOG_FOLLOWER_LIMITS = { perJob: 100, total: 1000 };

export interface FollowStart {
  job: Job;
  /** The log's size in bytes when following starts (0 before the job writes one). */
  size: number;
}

/** Checks that the caller may follow a job's log from `offset`; the transport does the following. */
export class FollowJobLog {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly storage: StoragePort,
  ) {}

  async execute(caller: Caller, jobId: string, offset: number): Promise<FollowStart> {
    checkLogOffset(offset);
    const job = await this.jobs.execute(caller, jobId);
    // The smallest read the port allows; only the size is wanted.
    const chunk = await this.storage.loadLogs(jobId, offset, 4);
    return { job, size: chunk?.size ?? 0 };
  }
}
