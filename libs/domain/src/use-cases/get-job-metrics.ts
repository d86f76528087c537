import { Conflict, Unavailable } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { Job } from '../model/job';
import { HistoryPoint, TrackingPort } from '../ports/tracking.port';
import { GetJobStatus } from './get-job-status';

/** Caps that keep one answer to a few MB: a chart has no use for more points. */
export const METRIC_HISTORY_LIMITS = { pointsPerMetric: 10_000, metrics: 100 };
/** History requests in flight to the tracking server at once, per call. */
const PARALLEL_READS = 8;

export interface JobMetrics {
  job: Job;
  runId: string;
  /** Each metric's history, keys as logged (the official copies under leaderboard.* included). */
  metrics: Record<string, HistoryPoint[]>;
  /** Keys whose history was cut at METRIC_HISTORY_LIMITS.pointsPerMetric points. */
  truncated: string[];
  /** Keys past the first METRIC_HISTORY_LIMITS.metrics (in sorted order), not read. */
  omitted: string[];
}

/** Every metric's history of a job's tracking run, for charts. */
export class GetJobMetrics {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly tracking: TrackingPort,
  ) {}

  async execute(caller: Caller, jobId: string): Promise<JobMetrics> {
    const job = await this.jobs.execute(caller, jobId);
    if (!job.runId) {
      throw new Conflict(`job ${jobId} has no metrics yet: it is ${job.status} and has no tracking run; poll its status`);
    }
    const runId = job.runId;
    try {
      const run = await this.tracking.getRun(runId);
      if (!run) throw new Conflict(`job ${jobId} refers to run ${runId}, which the tracking server does not know`);
      const keys = Object.keys(run.metrics).sort();
      const read = keys.slice(0, METRIC_HISTORY_LIMITS.metrics);
      const histories = await inBatches(read, PARALLEL_READS, (key) =>
        this.tracking.getMetricHistory(runId, key, METRIC_HISTORY_LIMITS.pointsPerMetric),
      );
      return {
        job,
        runId,
        metrics: Object.fromEntries(read.map((key, index) => [key, histories[index].points])),
        truncated: read.filter((_, index) => histories[index].truncated),
        omitted: keys.slice(METRIC_HISTORY_LIMITS.metrics),
      };
    } catch (error) {
      if (!(error instanceof Unavailable)) throw error;
      throw new Unavailable(`the tracking server is unavailable: ${error.message}; the job's status and logs still work`);
    }
  }
}

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  }
  return results;
}
