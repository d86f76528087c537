import {
  completeUtf8Length,
  Conflict,
  IncomingFile,
  Invalid,
  JsonObject,
  LogChunk,
  NotFound,
  RunFiles,
  StoragePort,
  Submission,
} from '@app/domain';
// Test code may share the adapter's parser: config parsing is not what this fake stands in for.
import { parseConfig } from '../../../adapters/src/filesystem/config-file';

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface StoredSubmission {
  files: string[];
  contents: Map<string, string>;
  metadata?: Submission;
}

/**
 * StoragePort kept in maps, for unit tests. It stores .zip and .tar.gz uploads as opaque files
 * and never unpacks them: archive handling is tested against the filesystem adapter.
 */
export class InMemoryStorage extends StoragePort {
  private readonly incoming = new Map<string, string>();
  private readonly submissions = new Map<string, StoredSubmission>();
  private readonly logs = new Map<string, Buffer>();
  private staged = 0;
  /** The effective config of each prepared run, for tests to inspect. */
  readonly effectiveConfigs = new Map<string, JsonObject>();
  /** Every tempPath `discardIncoming` was asked to delete, in order. */
  readonly discarded: string[] = [];

  /** An upload as the HTTP layer would hand it over; `save` or `discardIncoming` consumes it. */
  stageIncoming(originalName: string, content: string): IncomingFile {
    this.staged += 1;
    const tempPath = `memory://incoming/${this.staged}-${originalName}`;
    this.incoming.set(tempPath, content);
    return { originalName, tempPath, size: Buffer.byteLength(content) };
  }

  /** Appends to a job's log, as the worker would. */
  writeLog(jobId: string, text: string): void {
    this.logs.set(jobId, Buffer.concat([this.logs.get(jobId) ?? Buffer.alloc(0), Buffer.from(text)]));
  }

  async save(submissionId: string, files: IncomingFile[]): Promise<string[]> {
    if (!SAFE_ID.test(submissionId)) throw new Invalid([`submission id "${submissionId}" is not a plain id`]);
    if (this.submissions.has(submissionId)) throw new Conflict(`submission ${submissionId} already exists`);
    const names = files.map((file) => file.originalName);
    // Like the real storage: names differing only in case or Unicode form are the same name.
    const keys = names.map((name) => name.normalize('NFC').toLowerCase());
    const duplicate = names.find((_, index) => keys.indexOf(keys[index]) !== index);
    if (duplicate !== undefined) throw new Invalid([`file "${duplicate}" was uploaded twice`]);
    const contents = new Map(files.map((file) => [file.originalName, this.incoming.get(file.tempPath) ?? '']));
    for (const file of files) this.incoming.delete(file.tempPath);
    this.submissions.set(submissionId, { files: [...names].sort(), contents });
    return [...names].sort();
  }

  /** Unlike the filesystem adapter, also works without `save`: tests seed a submission this way. */
  async saveMetadata(submission: Submission): Promise<void> {
    const stored = this.submissions.get(submission.submissionId);
    const files = stored?.files ?? [...submission.files].sort();
    this.submissions.set(submission.submissionId, { files, contents: stored?.contents ?? new Map(), metadata: structuredClone(submission) });
  }

  async load(submissionId: string): Promise<string> {
    if (!(await this.exists(submissionId))) throw new NotFound(`submission ${submissionId} does not exist`);
    return `memory://submissions/${submissionId}`;
  }

  async loadMetadata(submissionId: string): Promise<Submission | undefined> {
    const metadata = this.submissions.get(submissionId)?.metadata;
    return metadata && structuredClone(metadata);
  }

  async exists(submissionId: string): Promise<boolean> {
    return this.submissions.get(submissionId)?.metadata !== undefined;
  }

  async remove(submissionId: string): Promise<void> {
    this.submissions.delete(submissionId);
  }

  async loadLogs(jobId: string, offset: number, limit: number): Promise<LogChunk | undefined> {
    const log = this.logs.get(jobId);
    if (!log) return undefined;
    const slice = log.subarray(offset, offset + Math.max(0, limit));
    const end = completeUtf8Length(slice);
    return { text: slice.toString('utf8', 0, end), nextOffset: offset + end, size: log.length };
  }

  async loadSubmissionConfig(submissionId: string, configFile: string): Promise<JsonObject> {
    if (!(await this.exists(submissionId))) throw new NotFound(`submission ${submissionId} does not exist`);
    const text = this.submissions.get(submissionId)?.contents.get(configFile);
    if (text === undefined) throw new Invalid([`config file "${configFile}" is not a regular file of submission ${submissionId}`]);
    return parseConfig(configFile, text);
  }

  async prepareRun(jobId: string, effectiveConfig: JsonObject): Promise<RunFiles> {
    this.effectiveConfigs.set(jobId, structuredClone(effectiveConfig));
    this.logs.set(jobId, Buffer.alloc(0));
    return { configPath: `memory://runs/${jobId}/config.yaml`, outputDir: `memory://runs/${jobId}/output`, logPath: `memory://logs/${jobId}`, scorerLogPath: `memory://logs/${jobId}.scorer` };
  }

  async discardIncoming(files: IncomingFile[]): Promise<void> {
    for (const file of files) {
      this.incoming.delete(file.tempPath);
      this.discarded.push(file.tempPath);
    }
  }
}

