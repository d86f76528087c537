import { JsonObject } from '../model/job';
import { IncomingFile, Submission } from '../model/submission';

/** A slice of a job's log file, for reading a live log piece by piece. */
export interface LogChunk {
  text: string;
  /** Byte offset to ask for next to continue where this chunk ended. */
  nextOffset: number;
  /** Size of the whole log file in bytes when it was read. */
  size: number;
}

/** Host paths of what one run reads and writes. */
export interface RunFiles {
  /** The effective config, written for the run and read-only to it. */
  configPath: string;
  /** The run's output directory ({ARTIFACT_ROOT}/{job_id}). */
  outputDir: string;
  /** The combined stdout/stderr log ({LOG_ROOT}/{job_id}.log), truncated for a fresh attempt. */
  logPath: string;
  /** The benchmark scorer's own output ({LOG_ROOT}/{job_id}.scorer.log): for operators, never served to users. */
  scorerLogPath: string;
}

/** Where submissions and job logs live. Files are written once and read many times. */
export abstract class StoragePort {
  /**
   * Moves the incoming files into a new submission folder and unpacks archives safely. Returns
   * every stored file as a relative path. Throws Invalid or TooLarge for an unsafe archive; on any
   * failure nothing of the submission remains. The submission exists only after saveMetadata.
   */
  abstract save(submissionId: string, files: IncomingFile[]): Promise<string[]>;
  /** Records the submission's metadata once its files are stored and checked. */
  abstract saveMetadata(submission: Submission): Promise<void>;
  /** Absolute path of the folder holding the submission's files. Throws NotFound. */
  abstract load(submissionId: string): Promise<string>;
  /** The stored metadata, or undefined for an unknown submission. */
  abstract loadMetadata(submissionId: string): Promise<Submission | undefined>;
  abstract exists(submissionId: string): Promise<boolean>;
  /** Removes a submission entirely; a no-op for an unknown one. */
  abstract remove(submissionId: string): Promise<void>;
  /**
   * Reads up to `limit` bytes (at least 4, one UTF-8 character) of a job's log from `offset`; a chunk
   * never ends inside a character. Undefined when there is no log yet.
   */
  abstract loadLogs(jobId: string, offset: number, limit: number): Promise<LogChunk | undefined>;
  /** Parses the submission's config file (YAML or JSON) into an object. Throws Invalid if it is not one. */
  abstract loadSubmissionConfig(submissionId: string, configFile: string): Promise<JsonObject>;
  /** Creates the run's output dir, writes its effective config and starts an empty log. */
  abstract prepareRun(jobId: string, effectiveConfig: JsonObject): Promise<RunFiles>;
  /** Deletes incoming temporary files that were not stored (after a rejected upload). */
  abstract discardIncoming(files: IncomingFile[]): Promise<void>;
}
