import { call } from '../api-call';
import { CliContext } from '../context';
import { EXIT, ExitCode } from '../exit-codes';
import { describeJob, fetchJob, Job } from '../job-outcome';
import { formatScores, printJson, printLine, printTable } from '../output';
import { finishJob, JobFinishOptions } from './finish-job';

export async function status(context: CliContext, jobId: string, options: { json?: boolean }): Promise<ExitCode> {
  const job = await fetchJob(context, jobId);
  if (options.json) printJson(await describeJob(context, job));
  else printJob(job);
  return EXIT.completed;
}

export async function cancel(context: CliContext, jobId: string, options: { json?: boolean }): Promise<ExitCode> {
  const job = await call(context.baseUrl, () => context.client.POST('/jobs/{id}/cancel', { params: { path: { id: jobId } } }));
  if (options.json) printJson(await describeJob(context, job));
  else printLine(`${job.job_id} ${job.status}`);
  return EXIT.completed;
}

export async function rerun(context: CliContext, jobId: string, options: JobFinishOptions): Promise<ExitCode> {
  const job = await call(context.baseUrl, () =>
    context.client.POST('/jobs/{id}/rerun', { params: { path: { id: jobId } } }),
  );
  return finishJob(context, job, options);
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  all?: boolean;
  json?: boolean;
}

export async function listJobs(context: CliContext, options: ListOptions): Promise<ExitCode> {
  const page = await call(context.baseUrl, () =>
    context.client.GET('/jobs', { params: { query: { limit: options.limit, offset: options.offset, ...(options.all ? { all: 'true' as const } : {}) } } }),
  );
  if (options.json) {
    printJson(page);
    return EXIT.completed;
  }
  printTable(
    ['JOB', 'STATUS', 'BENCHMARK', 'CREATED', 'SCORES'],
    page.jobs.map((job) => [job.job_id, job.status, job.benchmark ?? '-', job.created_at, formatScores(job.scores)]),
  );
  if (page.total > page.offset + page.jobs.length) printLine(`(${page.jobs.length} of ${page.total}; next page: --offset ${page.offset + page.jobs.length})`);
  return EXIT.completed;
}

function printJob(job: Job): void {
  const rows: Array<[string, string | null]> = [
    ['job', job.job_id],
    ['status', job.status],
    ['benchmark', job.benchmark ?? '-'],
    ['scores', formatScores(job.scores)],
    ['error', job.error_message],
    ['submission', job.submission_id],
    ['entrypoint', job.entrypoint],
    ['class', job.resource_class],
    ['created', job.created_at],
    ['started', job.started_at],
    ['finished', job.finished_at],
    ['mlflow run', job.run_id],
  ];
  for (const [label, value] of rows) if (value !== null) printLine(`${`${label}:`.padEnd(12)}${value}`);
}
