import { Forbidden, Invalid } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { JobPage, JobStatusPort } from '../ports/job-status.port';

export const MAX_PAGE_SIZE = 100;
/** Past any real history; keeps the offset a small integer. */
export const MAX_LIST_OFFSET = 1_000_000;

/** The caller's jobs, newest first; admins may ask for everyone's. */
export class ListJobs {
  constructor(private readonly status: JobStatusPort) {}

  async execute(caller: Caller, options: { offset: number; limit: number; allUsers: boolean }): Promise<JobPage> {
    if (options.allUsers && !caller.isAdmin) throw new Forbidden('only admins may list every user\'s jobs');
    const problems: string[] = [];
    if (!Number.isSafeInteger(options.offset) || options.offset < 0 || options.offset > MAX_LIST_OFFSET) {
      problems.push(`offset must be a whole number from 0 to ${MAX_LIST_OFFSET}`);
    }
    if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > MAX_PAGE_SIZE) {
      problems.push(`limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
    }
    if (problems.length > 0) throw new Invalid(problems);
    return this.status.list(options.allUsers ? undefined : caller.userId, options.offset, options.limit);
  }
}
