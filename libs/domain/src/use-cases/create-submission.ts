import { Invalid, TooLarge } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { JsonObject } from '../model/job';
import { jsonObjectProblem } from '../model/json-limits';
import { UploadLimits } from '../model/limits';
import { unsafePathReason } from '../model/paths';
import { IncomingFile, Submission } from '../model/submission';
import { ClockPort } from '../ports/clock.port';
import { IdPort } from '../ports/id.port';
import { StoragePort } from '../ports/storage.port';

export const ALLOWED_EXTENSIONS = ['.py', '.yaml', '.yml', '.json', '.txt', '.zip', '.tar.gz'];
export const DEFAULT_ENTRYPOINT = 'main.py';
export const DEFAULT_CONFIG_FILE = 'config.yaml';

export interface SubmissionRequest {
  files: IncomingFile[];
  entrypoint?: string;
  configFile?: string;
  /** The raw `metadata` form field: a JSON object as text. */
  metadata?: string;
}

/** Stores uploaded code as a new submission after checking every name, size and archive. */
export class CreateSubmission {
  constructor(
    private readonly storage: StoragePort,
    private readonly ids: IdPort,
    private readonly clock: ClockPort,
    private readonly limits: UploadLimits,
  ) {}

  async execute(caller: Caller, request: SubmissionRequest): Promise<Submission> {
    try {
      return await this.store(caller, request);
    } finally {
      await this.storage.discardIncoming(request.files);
    }
  }

  private async store(caller: Caller, request: SubmissionRequest): Promise<Submission> {
    const entrypoint = request.entrypoint?.trim() || DEFAULT_ENTRYPOINT;
    const configFile = request.configFile?.trim() || DEFAULT_CONFIG_FILE;
    const metadata = this.checkRequest(request, entrypoint, configFile);

    const submissionId = this.ids.random();
    try {
      const files = await this.storage.save(submissionId, request.files);
      const configPresent = files.includes(configFile);
      const problems: string[] = [];
      // `files` lists the regular files stored, by canonical relative path: no second look at the disk.
      if (!files.includes(entrypoint)) {
        problems.push(`entrypoint "${entrypoint}" is not among the uploaded files (${preview(files)})`);
      }
      if (request.configFile?.trim() && !configPresent) {
        problems.push(`config_file "${configFile}" is not among the uploaded files (${preview(files)})`);
      }
      if (problems.length > 0) throw new Invalid(problems);

      const submission: Submission = {
        submissionId,
        userId: caller.userId,
        entrypoint,
        configFile: configPresent ? configFile : null,
        files,
        metadata,
        createdAt: new Date(this.clock.now()).toISOString(),
      };
      await this.storage.saveMetadata(submission);
      return submission;
    } catch (error) {
      await this.storage.remove(submissionId);
      throw error;
    }
  }

  /** Every check that needs no disk; reports all problems at once. */
  private checkRequest(request: SubmissionRequest, entrypoint: string, configFile: string): JsonObject {
    const problems: string[] = [];
    if (request.files.length === 0) problems.push('files: upload at least one file in the "files" field');
    if (request.files.length > this.limits.maxFiles) {
      problems.push(`files: at most ${this.limits.maxFiles} files per submission; pack more into a .zip or .tar.gz`);
    }
    // Names that differ only in case or Unicode form count as the same name (see NameRegistry).
    const seen = new Set<string>();
    for (const file of request.files) {
      const name = file.originalName;
      const reason = unsafePathReason(name);
      if (name.includes('/') || name.includes('\\')) {
        problems.push(`files: "${printable(name)}" is not a plain file name; put folders in a .zip or .tar.gz`);
      } else if (reason) {
        problems.push(`files: "${printable(name)}" ${reason}`);
      } else if (!ALLOWED_EXTENSIONS.some((extension) => name.toLowerCase().endsWith(extension))) {
        problems.push(`files: "${name}" has an extension that is not allowed (allowed: ${ALLOWED_EXTENSIONS.join(' ')})`);
      } else if (seen.has(sameNameKey(name))) {
        problems.push(`files: "${name}" was uploaded twice (names differing only in letter case or Unicode form count as the same)`);
      }
      seen.add(sameNameKey(name));
    }
    const entrypointProblem = unsafePathReason(entrypoint);
    if (entrypointProblem) problems.push(`entrypoint "${printable(entrypoint)}" ${entrypointProblem}`);
    else if (!entrypoint.endsWith('.py')) problems.push(`entrypoint "${printable(entrypoint)}" must be a .py file`);
    const configProblem = unsafePathReason(configFile);
    if (configProblem) problems.push(`config_file "${printable(configFile)}" ${configProblem}`);
    const metadata = parseMetadata(request.metadata, problems);
    if (problems.length > 0) throw new Invalid(problems);

    const oversized = request.files.find((file) => file.size > this.limits.maxFileBytes);
    if (oversized) {
      throw new TooLarge(`file "${oversized.originalName}" is larger than the ${this.limits.maxFileBytes / 2 ** 20} MB limit`);
    }
    const total = request.files.reduce((sum, file) => sum + file.size, 0);
    if (total > this.limits.maxSubmissionBytes) {
      throw new TooLarge(
        `the files add up to ${megabytes(total)} MB, over the ${megabytes(this.limits.maxSubmissionBytes)} MB limit per submission (plain files and unpacked archives together)`,
      );
    }
    return metadata;
  }
}

function parseMetadata(raw: string | undefined, problems: string[]): JsonObject {
  if (raw === undefined || raw.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    // Checked before anything recursive (storing it as JSON) touches it.
    const problem = jsonObjectProblem('metadata', parsed);
    if (!problem) return parsed as JsonObject;
    problems.push(problem);
  } catch (error) {
    problems.push(`metadata is not valid JSON (${(error as Error).message}); send an object like {"model": "resnet"}`);
  }
  return {};
}

function sameNameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

function megabytes(bytes: number): string {
  return String(Math.round((bytes / 2 ** 20) * 10) / 10);
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

function preview(files: string[]): string {
  const shown = files.slice(0, 10).join(', ');
  return files.length > 10 ? `${shown}, and ${files.length - 10} more` : shown || 'none';
}
