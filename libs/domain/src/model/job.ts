import { Scores } from './scores';

export const JOB_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const FINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export const RESOURCE_CLASSES = ['small', 'medium'] as const;
export type ResourceClass = (typeof RESOURCE_CLASSES)[number];

/** A JSON object as sent by a user; used for job configs and submission metadata. */
export type JsonObject = { [key: string]: unknown };

/** What is known when a job is admitted. */
export interface NewJob {
  jobId: string;
  submissionId: string;
  userId: string;
  entrypoint: string;
  configFile: string | null;
  config: JsonObject;
  resourceClass: ResourceClass;
  /** The benchmark the job is scored on, or null for a plain experiment ranked nowhere. */
  benchmark: string | null;
  createdAt: string;
}

/** A job as recorded; timestamps are ISO 8601 strings. */
export interface Job extends NewJob {
  status: JobStatus;
  updatedAt: string;
  runId: string | null;
  experimentId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  errorMessage: string | null;
  /** Official scores from the benchmark's scorer; null until scored, and for plain experiments. */
  scores: Scores | null;
  /**
   * Set while a run whose code already ran writes its outcome (MLflow, board, record): a worker that
   * gets the job again finishes these writes instead of running the code a second time.
   */
  finishing?: Finishing;
}

/** The outcome of a run whose code ran, kept until every finishing write has landed. */
export interface Finishing {
  status: 'completed' | 'failed' | 'cancelled';
  errorMessage: string | null;
  runStatus: 'FINISHED' | 'FAILED' | 'KILLED';
  scores: Scores | null;
  finishedAt: string;
}

/** The fields a status update may change; `finishing: null` clears the marker. */
export type JobChange = Partial<
  Pick<Job, 'status' | 'runId' | 'experimentId' | 'startedAt' | 'finishedAt' | 'errorMessage' | 'scores'> & { finishing: Finishing | null }
>;

/** What goes on the queue, in the wire format the worker reads. */
export interface JobPayload {
  job_id: string;
  submission_id: string;
  entrypoint: string;
  config_file: string | null;
  config: JsonObject;
  resource_class: ResourceClass;
  /** Absent in payloads queued before benchmarks existed. */
  benchmark?: string | null;
  /** Set by the worker while the platform keeps failing this job: when the faults began (epoch ms). */
  platform_fault_since?: number;
  /** How many times in a row the job went back to the queue for a platform fault. */
  platform_retries?: number;
}

export function toPayload(job: NewJob): JobPayload {
  return {
    job_id: job.jobId,
    submission_id: job.submissionId,
    entrypoint: job.entrypoint,
    config_file: job.configFile,
    config: job.config,
    resource_class: job.resourceClass,
    benchmark: job.benchmark,
  };
}
