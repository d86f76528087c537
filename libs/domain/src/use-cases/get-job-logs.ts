import { Invalid } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { LogChunk, StoragePort } from '../ports/storage.port';
import { GetJobStatus } from './get-job-status';

export const MAX_LOG_CHUNK_BYTES = 8 * 2 ** 20;
/** 1 TiB: past any log a job can write; keeps the offset a safe integer. */
export const MAX_LOG_OFFSET = 2 ** 40;

/** A byte offset into a job's log, as the logs routes take it (plain and followed). */
export function checkLogOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_LOG_OFFSET) {
    throw new Invalid([`offset must be a whole number from 0 to ${MAX_LOG_OFFSET}`]);
  }
}

/** A job's combined output from a byte offset, so clients can follow a live log. */
export class GetJobLogs {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly storage: StoragePort,
  ) {}

  async execute(caller: Caller, jobId: string, offset: number): Promise<LogChunk> {
    checkLogOffset(offset);
    await this.jobs.execute(caller, jobId);
    const chunk = await this.storage.loadLogs(jobId, offset, MAX_LOG_CHUNK_BYTES);
    return chunk ?? { text: '', nextOffset: offset, size: 0 };
  }
}
