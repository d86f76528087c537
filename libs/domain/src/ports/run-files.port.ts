/** A job's files on the host (output dir, log, scorer log, effective config), as retention sees them. */
export interface StoredRun {
  jobId: string;
  /** Epoch ms of the newest of its files' own modification times (folders not walked). */
  modifiedAt: number;
}

/** The files runs leave on the host, for the retention sweep; MLflow keeps its own copy. */
export abstract class RunFilesPort {
  /** Every job that has files on the host. */
  abstract list(): Promise<StoredRun[]>;
  /** Deletes the job's files; links are removed, never followed. A no-op for a job without files. */
  abstract remove(jobId: string): Promise<void>;
}
