import { Conflict, Invalid } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { IdPort } from '../ports/id.port';
import { StoragePort } from '../ports/storage.port';
import { EnqueuedJob, EnqueueJob } from './enqueue-job';
import { GetJobStatus } from './get-job-status';

/**
 * Queues the same submission, config, class and benchmark again under a fresh idempotency key.
 * An admin's re-run is the owner's job, counted against the owner's limits: jobs always belong
 * to the submission's author (only they may run it), and the board ranks the author.
 */
export class RerunJob {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly storage: StoragePort,
    private readonly enqueue: EnqueueJob,
    private readonly ids: IdPort,
  ) {}

  async execute(caller: Caller, jobId: string): Promise<EnqueuedJob> {
    const original = await this.jobs.execute(caller, jobId);
    if (!(await this.storage.loadMetadata(original.submissionId))) {
      throw new Conflict(`job ${jobId} cannot be re-run: its submission ${original.submissionId} was deleted; upload the code again`);
    }
    const owner = new Caller(original.userId, false);
    try {
      return await this.enqueue.execute(owner, {
        submissionId: original.submissionId,
        config: original.config,
        resourceClass: original.resourceClass,
        benchmark: original.benchmark,
        idempotencyKey: `rerun:${this.ids.random()}`,
      });
    } catch (error) {
      // The request is the stored job's, not the caller's: what it names went away since.
      if (error instanceof Invalid) throw new Conflict(`job ${jobId} cannot be re-run: ${error.message}`);
      throw error;
    }
  }
}
