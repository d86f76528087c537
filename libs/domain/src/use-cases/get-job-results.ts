import { Conflict } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { Job } from '../model/job';
import { RESERVED_KEY_PREFIX } from '../model/run-keys';
import { Scores } from '../model/scores';
import { TrackingPort } from '../ports/tracking.port';
import { GetJobStatus } from './get-job-status';

export interface JobResults {
  job: Job;
  runId: string;
  experimentId: string;
  /** What the job's own code logged to its run: self-reported, never ranked. */
  reportedMetrics: Record<string, number>;
  /** The scorer's official scores (null: not on a benchmark, or not scored). */
  scores: Scores | null;
  benchmark: string | null;
  mlflowUiLink: string;
  mlflowRestLink: string;
}

/** A job's metrics from its tracking run, with links a person and a script can follow. */
export class GetJobResults {
  constructor(
    private readonly jobs: GetJobStatus,
    private readonly tracking: TrackingPort,
    private readonly trackingPublicUri: string,
  ) {}

  async execute(caller: Caller, jobId: string): Promise<JobResults> {
    const job = await this.jobs.execute(caller, jobId);
    if (!job.runId) {
      throw new Conflict(`job ${jobId} has no results yet: it is ${job.status} and has no tracking run; poll its status`);
    }
    const run = await this.tracking.getRun(job.runId);
    if (!run) throw new Conflict(`job ${jobId} refers to run ${job.runId}, which the tracking server does not know`);
    const base = this.trackingPublicUri.replace(/\/+$/, '');
    return {
      job,
      runId: run.runId,
      experimentId: run.experimentId,
      // The official copies under leaderboard.* come from the job record, not from the run.
      reportedMetrics: Object.fromEntries(Object.entries(run.metrics).filter(([key]) => !key.startsWith(RESERVED_KEY_PREFIX))),
      scores: job.scores,
      benchmark: job.benchmark,
      mlflowUiLink: `${base}/#/experiments/${run.experimentId}/runs/${run.runId}`,
      mlflowRestLink: `${base}/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(run.runId)}`,
    };
  }
}
