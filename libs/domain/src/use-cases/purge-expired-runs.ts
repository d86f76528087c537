import { ClockPort } from '../ports/clock.port';
import { JobStatusPort } from '../ports/job-status.port';
import { RunFilesPort } from '../ports/run-files.port';

/**
 * Removes a job's files from the host once its status record has expired (JOB_RETENTION_DAYS, the
 * record's TTL). A job's files go only when both hold: the status store answered that the record
 * does not exist, and the files are older than the retention period. A store that does not answer
 * throws, so an outage never reads as "expired"; a record still there keeps its files whatever their age.
 */
export class PurgeExpiredRuns {
  constructor(
    private readonly status: JobStatusPort,
    private readonly files: RunFilesPort,
    private readonly clock: ClockPort,
    private readonly retentionMs: number,
  ) {}

  /** The job ids whose files were removed. */
  async execute(): Promise<string[]> {
    const cutoff = this.clock.now() - this.retentionMs;
    const removed: string[] = [];
    for (const run of await this.files.list()) {
      if (run.modifiedAt >= cutoff) continue;
      // Throws when the store is unreachable: the pass stops, nothing more is removed.
      if ((await this.status.get(run.jobId)) !== undefined) continue;
      await this.files.remove(run.jobId);
      removed.push(run.jobId);
    }
    return removed;
  }
}
