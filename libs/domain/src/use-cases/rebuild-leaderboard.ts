import { Forbidden, NotFound } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { Job } from '../model/job';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { JobStatusPort } from '../ports/job-status.port';
import { BoardEntry, LeaderboardPort } from '../ports/leaderboard.port';
import { knownIds } from './get-leaderboard';

const PAGE = 500;

/**
 * Rebuilds a benchmark's board from the scores stored with its jobs, e.g. after its metric or
 * order changed, or a board was lost. Admins only.
 */
export class RebuildLeaderboard {
  constructor(
    private readonly catalog: BenchmarkCatalogPort,
    private readonly status: JobStatusPort,
    private readonly board: LeaderboardPort,
  ) {}

  async execute(caller: Caller, benchmarkId: string): Promise<{ ranked: number }> {
    if (!caller.isAdmin) throw new Forbidden('only admins may rebuild a leaderboard');
    const listing = this.catalog.get(benchmarkId);
    if (!listing) throw new NotFound(`benchmark ${benchmarkId} does not exist; known benchmarks: ${knownIds(this.catalog)}`);
    if (!listing.available) throw new NotFound(`benchmark ${benchmarkId} is unavailable (${listing.problem}); fix it before rebuilding its board`);
    const { metric, order } = listing.benchmark;
    const entries: BoardEntry[] = [];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.status.list(undefined, offset, PAGE);
      for (const job of page.jobs) {
        const entry = entryOf(job, benchmarkId, metric);
        if (entry) entries.push(entry);
      }
      if (page.jobs.length < PAGE || offset + PAGE >= page.total) break;
    }
    await this.board.replace(benchmarkId, order, entries);
    return { ranked: entries.length };
  }
}

function entryOf(job: Job, benchmarkId: string, metric: string): BoardEntry | undefined {
  if (job.status !== 'completed' || job.benchmark !== benchmarkId || !job.scores) return undefined;
  const score = job.scores[metric];
  if (typeof score !== 'number' || !Number.isFinite(score)) return undefined;
  return {
    benchmarkId,
    jobId: job.jobId,
    userId: job.userId,
    submissionId: job.submissionId,
    score,
    scores: job.scores,
    finishedAt: job.finishedAt ?? job.updatedAt,
    runId: job.runId,
    experimentId: job.experimentId,
  };
}
