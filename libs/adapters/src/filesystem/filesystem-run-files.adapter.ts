import { RunFilesPort, StoredRun } from '@app/domain';
import { lstat, readdir, rm } from 'node:fs/promises';
import * as path from 'node:path';

/** Job ids as the storage writes them: never a path, never a dot. */
const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** What prepareRun and the worker write per job in LOG_ROOT, besides {ARTIFACT_ROOT}/{job id}/. */
const LOG_SUFFIXES = ['.log', '.scorer.log', '.config.yaml'];

/**
 * A job's files on the host: {ARTIFACT_ROOT}/{job id}/ and {LOG_ROOT}/{job id}{.log,.scorer.log,.config.yaml}.
 * Only entries of those exact shapes, directly in the two roots, are listed or removed; a link
 * is never followed (a link named like a job is removed as a link).
 */
export class FilesystemRunFiles extends RunFilesPort {
  constructor(private readonly options: { artifactRoot: string; logRoot: string }) {
    super();
  }

  async list(): Promise<StoredRun[]> {
    const newest = new Map<string, number>();
    const seen = (jobId: string, mtimeMs: number) => newest.set(jobId, Math.max(newest.get(jobId) ?? 0, mtimeMs));
    for (const name of await entries(this.options.artifactRoot)) {
      if (!SAFE_ID.test(name)) continue;
      const stats = await lstat(path.join(this.options.artifactRoot, name)).catch(() => undefined);
      if (stats && (stats.isDirectory() || stats.isSymbolicLink())) seen(name, stats.mtimeMs);
    }
    for (const name of await entries(this.options.logRoot)) {
      const jobId = jobIdOf(name);
      if (jobId === undefined) continue;
      const stats = await lstat(path.join(this.options.logRoot, name)).catch(() => undefined);
      if (stats && (stats.isFile() || stats.isSymbolicLink())) seen(jobId, stats.mtimeMs);
    }
    return [...newest].map(([jobId, modifiedAt]) => ({ jobId, modifiedAt }));
  }

  async remove(jobId: string): Promise<void> {
    if (!SAFE_ID.test(jobId)) throw new Error(`job id "${jobId}" is not a plain id`);
    // rm removes a link itself and, walking a folder, the links in it: it follows none.
    await rm(path.join(this.options.artifactRoot, jobId), { recursive: true, force: true });
    for (const suffix of LOG_SUFFIXES) await rm(path.join(this.options.logRoot, `${jobId}${suffix}`), { force: true });
  }
}

function jobIdOf(logName: string): string | undefined {
  // Longest suffix first: "x.scorer.log" is job x, not job "x.scorer".
  for (const suffix of [...LOG_SUFFIXES].sort((a, b) => b.length - a.length)) {
    if (!logName.endsWith(suffix)) continue;
    const jobId = logName.slice(0, -suffix.length);
    return SAFE_ID.test(jobId) ? jobId : undefined;
  }
  return undefined;
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
}
