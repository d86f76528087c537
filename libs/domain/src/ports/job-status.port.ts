import { Job, JobChange, NewJob } from '../model/job';
import { JobLimits } from '../model/limits';

/** What happened to a job asked to be admitted. */
export type Admission =
  | { outcome: 'created'; job: Job }
  | { outcome: 'existing'; job: Job }
  | { outcome: 'rate_limited'; limit: 'hourly' | 'concurrent'; retryAfterSeconds: number; current: number };

export interface JobPage {
  jobs: Job[];
  total: number;
}

/** Where a job's lifecycle is recorded. Final states are never left. */
export abstract class JobStatusPort {
  /**
   * Records `job` as pending unless a job with its id exists (then returns that one), enforcing the
   * user's limits in the same atomic step: two concurrent calls can never both take the last slot.
   * `now` is epoch milliseconds; the hourly window is the hour before it.
   */
  abstract create(job: NewJob, limits: JobLimits, now: number): Promise<Admission>;
  /** Applies a change unless the job is already final (then returns it unchanged). Throws NotFound. */
  abstract update(jobId: string, change: JobChange): Promise<Job>;
  abstract get(jobId: string): Promise<Job | undefined>;
  /** Newest first; `userId` undefined lists every user's jobs. */
  abstract list(userId: string | undefined, offset: number, limit: number): Promise<JobPage>;
  /** Every job that is pending or running, for the reaper. */
  abstract listUnfinished(): Promise<Job[]>;
  /** Forgets a job entirely: undoes a create whose enqueue failed. */
  abstract remove(jobId: string): Promise<void>;
}
