import type { Schema } from '@app/client';
import { call } from './api-call';
import { CliContext } from './context';
import { CliFailure, EXIT, ExitCode } from './exit-codes';
import { formatScores, report } from './output';

export type Job = Schema<'JobResponse'>;

const FINAL = new Set<Job['status']>(['completed', 'failed', 'cancelled']);
export const isFinal = (status: Job['status']) => FINAL.has(status);

/** Polls the job's status until it is final: every 250 ms at first, backing off to every second. */
export async function waitForFinal(context: CliContext, jobId: string): Promise<Job> {
  let delay = 250;
  for (;;) {
    const job = await fetchJob(context, jobId);
    if (isFinal(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(1000, delay * 1.5);
  }
}

export function fetchJob(context: CliContext, jobId: string): Promise<Job> {
  return call(context.baseUrl, () => context.client.GET('/jobs/{id}/status', { params: { path: { id: jobId } } }));
}

/** The machine-readable account of a job for the next CI step (`--json`). */
export async function describeJob(context: CliContext, job: Job): Promise<Record<string, unknown>> {
  const results = job.status === 'completed' ? await fetchResults(context, job.job_id) : undefined;
  const jobUrl = `${context.baseUrl}/jobs/${encodeURIComponent(job.job_id)}`;
  return {
    job_id: job.job_id,
    status: job.status,
    benchmark: job.benchmark,
    submission_id: job.submission_id,
    resource_class: job.resource_class,
    scores: job.scores,
    reported_metrics: results?.reported_metrics ?? null,
    error_message: job.error_message,
    created_at: job.created_at,
    finished_at: job.finished_at,
    run_id: job.run_id,
    links: {
      status: `${jobUrl}/status`,
      logs: `${jobUrl}/logs`,
      results: `${jobUrl}/results`,
      mlflow_run: results?.mlflow_ui_link ?? null,
      leaderboard: job.benchmark ? `${context.baseUrl}/benchmarks/${encodeURIComponent(job.benchmark)}/leaderboard` : null,
    },
  };
}

/** Reported metrics and links are extras: MLflow being down must not turn a scored run into a failure. */
async function fetchResults(context: CliContext, jobId: string): Promise<Schema<'JobResultsResponse'> | undefined> {
  try {
    return await call(context.baseUrl, () => context.client.GET('/jobs/{id}/results', { params: { path: { id: jobId } } }));
  } catch (error) {
    report(`warning: could not read the job's reported metrics: ${(error as Error).message}`);
    return undefined;
  }
}

/** The exit code a final job means, with the line that explains it on stderr. */
export function outcomeOf(job: Job): ExitCode {
  if (job.status === 'completed') {
    if (job.benchmark && !job.scores) {
      report(`job ${job.job_id} completed but has no official scores on ${job.benchmark}`);
      return EXIT.failed;
    }
    report(`job ${job.job_id} completed${job.benchmark ? ` on ${job.benchmark}: ${formatScores(job.scores)}` : ''}`);
    return EXIT.completed;
  }
  if (job.status === 'cancelled') {
    report(`job ${job.job_id} was cancelled${job.error_message ? `: ${job.error_message}` : ''}`);
    return EXIT.cancelled;
  }
  if (job.status === 'failed') {
    report(`job ${job.job_id} failed: ${job.error_message ?? 'no error message was recorded'}`);
    return EXIT.failed;
  }
  throw new CliFailure(`job ${job.job_id} is still ${job.status}`, EXIT.apiError);
}
