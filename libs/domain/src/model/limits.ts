/** Per-user admission limits for new jobs. */
export interface JobLimits {
  jobsPerHour: number;
  concurrentJobs: number;
}

/** Limits on what one submission may contain. */
export interface UploadLimits {
  maxFileBytes: number;
  maxFiles: number;
  /** Plain files and unpacked archives of one submission together. */
  maxSubmissionBytes: number;
}
