import { Finishing, Job, JobChange, JobStatus, NewJob, ResourceClass, Scores } from '@app/domain';

/** Field names of the `{prefix}:job:{id}` hash; nulls are stored as empty strings. */
export function newJobFields(job: NewJob, status: JobStatus): Record<string, string> {
  return {
    job_id: job.jobId,
    status,
    submission_id: job.submissionId,
    user_id: job.userId,
    entrypoint: job.entrypoint,
    config_file: job.configFile ?? '',
    config: JSON.stringify(job.config),
    resource_class: job.resourceClass,
    benchmark: job.benchmark ?? '',
    scores: '',
    run_id: '',
    experiment_id: '',
    created_at: job.createdAt,
    updated_at: job.createdAt,
    started_at: '',
    finished_at: '',
    error_message: '',
  };
}

const CHANGE_FIELDS: Record<Exclude<keyof JobChange, 'scores' | 'finishing'>, string> = {
  status: 'status',
  runId: 'run_id',
  experimentId: 'experiment_id',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  errorMessage: 'error_message',
};

export function changeFields(change: JobChange): string[] {
  const fields: string[] = [];
  for (const [key, field] of Object.entries(CHANGE_FIELDS)) {
    const value = change[key as keyof JobChange];
    if (value !== undefined) fields.push(field, (value as string | null) ?? '');
  }
  if (change.scores !== undefined) fields.push('scores', change.scores ? JSON.stringify(change.scores) : '');
  if (change.finishing !== undefined) fields.push('finishing', change.finishing ? JSON.stringify(change.finishing) : '');
  return fields;
}

export function jobFromHash(hash: Record<string, string>): Job | undefined {
  if (!hash.job_id) return undefined;
  const orNull = (value: string | undefined) => (value ? value : null);
  return {
    jobId: hash.job_id,
    status: hash.status as JobStatus,
    submissionId: hash.submission_id,
    userId: hash.user_id,
    entrypoint: hash.entrypoint,
    configFile: orNull(hash.config_file),
    config: hash.config ? JSON.parse(hash.config) : {},
    resourceClass: hash.resource_class as ResourceClass,
    benchmark: orNull(hash.benchmark),
    scores: hash.scores ? (JSON.parse(hash.scores) as Scores) : null,
    runId: orNull(hash.run_id),
    experimentId: orNull(hash.experiment_id),
    createdAt: hash.created_at,
    updatedAt: hash.updated_at,
    startedAt: orNull(hash.started_at),
    finishedAt: orNull(hash.finished_at),
    errorMessage: orNull(hash.error_message),
    ...(hash.finishing ? { finishing: JSON.parse(hash.finishing) as Finishing } : {}),
  };
}

/** Redis returns HGETALL from a script as a flat [field, value, ...] list. */
export function pairsToHash(pairs: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let index = 0; index + 1 < pairs.length; index += 2) hash[pairs[index]] = pairs[index + 1];
  return hash;
}
