import {
  Conflict,
  IncomingFile,
  Invalid,
  JsonObject,
  LogChunk,
  NotFound,
  RateLimited,
  RunFiles,
  StoragePort,
  Submission,
  Unavailable,
  completeUtf8Length,
  unsafePathReason,
} from '@app/domain';
import { randomUUID } from 'node:crypto';
import { lstat, mkdir, open, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { UnpackBudget, UnpackLimits, archiveFormat, unpackArchive } from './archive-unpacker';
import { fsProblem } from './fs-problems';
import { sharedFsThreads } from './fs-thread-pool';
import { NameRegistry } from './name-registry';
import { BoundedCache } from '../support/bounded-cache';
import { parseConfig } from './config-file';

export interface FileSystemStorageOptions extends UnpackLimits {
  /** Saves with archives that may run at once in this process; more are refused with 429. */
  maxConcurrentUnpacks: number;
  uploadRoot: string;
  logRoot: string;
  artifactRoot: string;
}

/** Where the HTTP layer streams uploads: inside uploadRoot, so `save` can rename instead of copy. */
export function incomingDir(uploadRoot: string): string {
  return path.join(path.resolve(uploadRoot), '.incoming');
}

/** Submission and job ids become folder and file names, so only plain ids are accepted. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const UNPACK_RETRY_SECONDS = 5;

/** metadata.json as stored: snake_case, like the HTTP API. */
interface MetadataFile {
  submission_id: string;
  user_id: string;
  entrypoint: string;
  config_file: string | null;
  files: string[];
  metadata: JsonObject;
  created_at: string;
}

/**
 * `{uploadRoot}/{id}/files/` holds a submission's files and `{uploadRoot}/{id}/metadata.json` its
 * metadata, written last: a submission exists once metadata.json does. Logs are `{logRoot}/{jobId}.log`.
 */
export class FileSystemStorageAdapter extends StoragePort {
  private readonly uploadRoot: string;
  private readonly logRoot: string;
  private readonly incoming: string;
  /** metadata.json never changes once written, so POST /jobs need not read it from disk each time. */
  private readonly metadataCache = new BoundedCache<Submission>(10_000);
  /** Saves unpacking archives right now: each holds disk bandwidth and a little memory. */
  private unpacking = 0;
  /** Uploads renamed into a submission: nothing is left at their temp path, so no unlink is spent on them. */
  private readonly moved = new WeakSet<IncomingFile>();
  private readonly threads = sharedFsThreads();

  constructor(private readonly options: FileSystemStorageOptions) {
    super();
    this.uploadRoot = path.resolve(options.uploadRoot);
    this.logRoot = path.resolve(options.logRoot);
    this.incoming = incomingDir(this.uploadRoot);
  }

  async save(submissionId: string, files: IncomingFile[]): Promise<string[]> {
    if (!SAFE_ID.test(submissionId)) throw new Invalid([`submission id "${submissionId}" is not a plain id`]);
    const archives = files.filter((each) => archiveFormat(each.originalName));
    // Taken before the first await, so two saves cannot both pass the check.
    const slots = archives.length > 0 ? 1 : 0;
    const refused = slots > 0 && this.unpacking >= this.options.maxConcurrentUnpacks;
    if (!refused) this.unpacking += slots;
    try {
      if (refused) {
        throw new RateLimited(
          `too many archives unpacking at once: the server unpacks at most ${this.options.maxConcurrentUnpacks} uploads with archives at a time (MAX_CONCURRENT_UNPACKS); try again in a few seconds`,
          UNPACK_RETRY_SECONDS,
        );
      }
      return await this.store(submissionId, files, archives);
    } finally {
      if (!refused) this.unpacking -= slots;
      // Archives were read in place and a failure can leave uploads unmoved: none outlives save.
      await this.discardIncoming(files);
    }
  }

  private async store(submissionId: string, files: IncomingFile[], archives: IncomingFile[]): Promise<string[]> {
    const folder = this.folderOf(submissionId);
    const filesDir = path.join(folder, 'files');
    const budget = new UnpackBudget(this.options, new NameRegistry());
    const plain = files.filter((each) => !archiveFormat(each.originalName));
    const moves = plain.map((file) => ({ from: file.tempPath, to: path.join(filesDir, this.checkPlain(file, budget)) }));
    // One task makes the root (first use), the folder and files/, then renames the uploads in.
    const result = await this.threads.movePlainFiles(filesDir, moves).catch((error: unknown) => {
      throw serverDiskError(error) ?? error;
    });
    if (result.conflict) throw new Conflict(`submission ${submissionId} already exists`);
    for (const file of plain.slice(0, result.moved)) this.moved.add(file);
    try {
      if (result.duplicate !== undefined) throw new Invalid([`${label(plain[result.duplicate])} was uploaded twice`]);
      if (result.failed !== undefined) {
        const problem = fsProblem(result.error);
        throw problem ? new Invalid([`${label(plain[result.failed])} ${problem}`]) : result.error;
      }
      // Archives are unpacked straight from the incoming folder; discardIncoming removes them.
      for (const archive of archives) {
        if (!this.isIncoming(archive.tempPath)) throw notIncoming(archive.tempPath, this.incoming);
        await unpackArchive(archive.tempPath, archive.originalName, filesDir, budget);
      }
      // Plain files alone land in a folder made above: their names are the listing, without a readdir.
      if (archives.length === 0) return plain.map((file) => file.originalName).sort();
      return (await regularFiles(filesDir)).sort();
    } catch (error) {
      await rm(folder, { recursive: true, force: true });
      throw serverDiskError(error) ?? error;
    }
  }

  /** Checks an upload before anything is written; returns the name it is stored under. */
  private checkPlain(file: IncomingFile, budget: UnpackBudget): string {
    if (!this.isIncoming(file.tempPath)) throw notIncoming(file.tempPath, this.incoming);
    const name = file.originalName;
    if (name.includes('/') || unsafePathReason(name) !== undefined) throw new Invalid([`${label(file)} is not a plain file name`]);
    budget.names.add(name, 'file', label(file));
    budget.countBytes(label(file), file.size);
    return name;
  }

  async saveMetadata(submission: Submission): Promise<void> {
    const { submissionId } = submission;
    if (!SAFE_ID.test(submissionId)) throw new Invalid([`submission id "${submissionId}" is not a plain id`]);
    const record: MetadataFile = {
      submission_id: submissionId,
      user_id: submission.userId,
      entrypoint: submission.entrypoint,
      config_file: submission.configFile,
      files: submission.files,
      metadata: submission.metadata,
      created_at: submission.createdAt,
    };
    const folder = this.folderOf(submissionId);
    const temporary = path.join(folder, `.metadata-${randomUUID()}.tmp`);
    try {
      // Flushed before the rename: once metadata.json exists, it is whole.
      await this.threads.writeDurably(temporary, path.join(folder, 'metadata.json'), JSON.stringify(record, null, 2));
    } catch (error) {
      await rm(temporary, { force: true });
      if (errorCode(error) === 'ENOENT') throw new NotFound(`submission ${submissionId} has no stored files; save them first`);
      throw error;
    }
  }

  async load(submissionId: string): Promise<string> {
    if (!(await this.exists(submissionId))) throw new NotFound(`submission ${submissionId} does not exist`);
    return path.join(this.folderOf(submissionId), 'files');
  }

  async loadMetadata(submissionId: string): Promise<Submission | undefined> {
    if (!SAFE_ID.test(submissionId)) return undefined;
    const cached = this.metadataCache.get(submissionId);
    if (cached) return structuredClone(cached);
    let text: string;
    try {
      text = await readFile(path.join(this.folderOf(submissionId), 'metadata.json'), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    const record = JSON.parse(text) as MetadataFile;
    const submission: Submission = {
      submissionId: record.submission_id,
      userId: record.user_id,
      entrypoint: record.entrypoint,
      configFile: record.config_file,
      files: record.files,
      metadata: record.metadata,
      createdAt: record.created_at,
    };
    this.metadataCache.set(submissionId, submission);
    return structuredClone(submission);
  }

  async exists(submissionId: string): Promise<boolean> {
    if (!SAFE_ID.test(submissionId)) return false;
    return (await kindOf(path.join(this.folderOf(submissionId), 'metadata.json'))) === 'file';
  }

  async remove(submissionId: string): Promise<void> {
    if (!SAFE_ID.test(submissionId)) return;
    this.metadataCache.delete(submissionId);
    await rm(this.folderOf(submissionId), { recursive: true, force: true });
  }

  async loadLogs(jobId: string, offset: number, limit: number): Promise<LogChunk | undefined> {
    if (!SAFE_ID.test(jobId)) return undefined;
    let file;
    try {
      file = await open(this.logPathOf(jobId), 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size } = await file.stat();
      const buffer = Buffer.alloc(Math.max(0, Math.min(limit, size - offset)));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
      const end = completeUtf8Length(buffer.subarray(0, bytesRead));
      return { text: buffer.toString('utf8', 0, end), nextOffset: offset + end, size };
    } finally {
      await file.close();
    }
  }

  async loadSubmissionConfig(submissionId: string, configFile: string): Promise<JsonObject> {
    const filesDir = await this.load(submissionId);
    const target = path.resolve(filesDir, configFile);
    if (unsafePathReason(configFile) || !target.startsWith(filesDir + path.sep) || (await kindOf(target)) !== 'file') {
      throw new Invalid([`config file "${configFile}" is not a regular file of submission ${submissionId}`]);
    }
    return parseConfig(configFile, await readFile(target, 'utf8'));
  }

  async prepareRun(jobId: string, effectiveConfig: JsonObject): Promise<RunFiles> {
    if (!SAFE_ID.test(jobId)) throw new Invalid([`job id "${jobId}" is not a plain id`]);
    const outputDir = path.join(path.resolve(this.options.artifactRoot), jobId);
    // A retried attempt starts clean: no output or log lines from the attempt before.
    await rm(outputDir, { recursive: true, force: true });
    await mkdir(outputDir, { recursive: true });
    await mkdir(this.logRoot, { recursive: true });
    const configPath = path.join(this.logRoot, `${jobId}.config.yaml`);
    await writeFile(configPath, stringifyYaml(effectiveConfig), { mode: 0o644 });
    const logPath = this.logPathOf(jobId);
    await writeFile(logPath, '', { mode: 0o644 });
    const scorerLogPath = path.join(this.logRoot, `${jobId}.scorer.log`);
    await rm(scorerLogPath, { force: true });
    return { configPath, outputDir, logPath, scorerLogPath };
  }

  async discardIncoming(files: IncomingFile[]): Promise<void> {
    for (const file of files) {
      // Never delete outside the incoming folder, whatever path a caller hands over.
      if (!this.isIncoming(file.tempPath) || this.moved.has(file)) continue;
      await unlink(file.tempPath).catch((error: unknown) => {
        if (errorCode(error) !== 'ENOENT') throw error;
      });
    }
  }

  private logPathOf(jobId: string): string {
    return path.join(this.logRoot, `${jobId}.log`);
  }

  private folderOf(submissionId: string): string {
    return path.join(this.uploadRoot, submissionId);
  }

  private isIncoming(tempPath: string): boolean {
    return path.resolve(tempPath).startsWith(this.incoming + path.sep);
  }

}

/** The server's disk, not the upload, is at fault: a 503 the operator can act on, not a 500. */
function serverDiskError(error: unknown): Unavailable | undefined {
  const code = errorCode(error);
  if (!code || !['ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE', 'EROFS', 'EIO'].includes(code)) return undefined;
  return new Unavailable(`the submission could not be written to disk (${code}); tell the operator`);
}

function label(file: IncomingFile): string {
  return `file "${printable(file.originalName)}"`;
}

function notIncoming(tempPath: string, incoming: string): Error {
  return new Error(`upload "${tempPath}" is not in ${incoming}; the HTTP layer must stream uploads there`);
}

function printable(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** Every regular file under `root`, as relative POSIX paths. */
async function regularFiles(root: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await regularFiles(root, relative)));
    else if (entry.isFile()) found.push(relative);
  }
  return found;
}

/** What is at `target` without following a symbolic link there. */
async function kindOf(target: string): Promise<'file' | 'other' | undefined> {
  try {
    return (await lstat(target)).isFile() ? 'file' : 'other';
  } catch (error) {
    // A name the file system cannot even look up (too long, invalid) names nothing there.
    if (['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'EINVAL', 'EILSEQ', 'ELOOP'].includes(errorCode(error) ?? '')) return undefined;
    throw error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
