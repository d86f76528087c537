import { JsonObject } from './job';

/** A file the HTTP layer has already streamed to a temporary path on disk. */
export interface IncomingFile {
  originalName: string;
  tempPath: string;
  size: number;
}

/** What metadata.json records about a submission. */
export interface Submission {
  submissionId: string;
  userId: string;
  entrypoint: string;
  /** null when the default config file was not uploaded: the job then starts from an empty config. */
  configFile: string | null;
  /** Every file of the submission after archives were unpacked, as relative paths. */
  files: string[];
  metadata: JsonObject;
  createdAt: string;
}
