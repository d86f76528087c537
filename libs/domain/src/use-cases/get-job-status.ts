import { Forbidden, NotFound } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { Job } from '../model/job';
import { JobStatusPort } from '../ports/job-status.port';

/** One job's record, for its owner or an admin. */
export class GetJobStatus {
  constructor(private readonly status: JobStatusPort) {}

  async execute(caller: Caller, jobId: string): Promise<Job> {
    const job = await this.status.get(jobId);
    if (!job) throw new NotFound(`job ${jobId} does not exist`);
    if (!caller.mayRead(job)) throw new Forbidden(`job ${jobId} belongs to another user`);
    return job;
  }
}
