import { RunLimits } from '../model/run-limits';

/** What to run and within which limits. Paths are host paths; the runner decides how they appear inside. */
export interface SandboxRequest {
  jobId: string;
  /** The submission's files, mounted read-only as the working directory. */
  submissionDir: string;
  /** The job's output directory, the only writable place besides a small /tmp. */
  outputDir: string;
  /** Relative path of the .py file inside the submission. */
  entrypoint: string;
  /** The effective config file, passed as --config. */
  configPath: string;
  /** Combined stdout and stderr go here, appended as the run goes. */
  logPath: string;
  /** Extra variables for the user's code (MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID); nothing else leaks in. */
  env: Record<string, string>;
  limits: RunLimits;
  /** GPU id for this run, or undefined for none. */
  gpu?: string;
  /** A benchmark's public data, read-only at /data (LEADERBOARD_DATA_DIR); undefined for none. */
  dataDir?: string;
}

/** How a run ended, classified from the timeout flag, the cgroup counters and the exit status. */
export type SandboxOutcome =
  | { kind: 'succeeded' }
  | { kind: 'exit_code'; exitCode: number; stderrTail: string }
  | { kind: 'signal'; signal: string; stderrTail: string }
  | { kind: 'timeout'; seconds: number }
  | { kind: 'out_of_memory'; limitMb: number }
  | { kind: 'process_limit'; pidsMax: number }
  /** /output held more than the cap (bytes or, on a capped filesystem, its files): the job was ended. */
  | { kind: 'output_limit'; limitMb: number }
  | { kind: 'aborted' }
  | { kind: 'sandbox_error'; message: string };

/** Runs untrusted Python in isolation. `abort` kills the whole process tree (cancel, shutdown). */
export abstract class SandboxRunnerPort {
  abstract run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome>;
  /** Checks the sandbox can start at all; resolves to a description, rejects with a reason. */
  abstract selfCheck(): Promise<string>;
}
