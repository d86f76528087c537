import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Schema } from '@app/client';
import { call } from '../api-call';
import { configFromOverrides } from '../config-overrides';
import { CliContext } from '../context';
import { ExitCode, usageError } from '../exit-codes';
import { isRegularFile, listSubmissionFiles } from '../file-list';
import { formatBytes, note } from '../output';
import { packSubmission } from '../pack';
import { UploadProgress } from '../progress';
import { uploadSubmission } from '../upload';
import { finishJob, JobFinishOptions } from './finish-job';

export interface SubmitOptions extends JobFinishOptions {
  benchmark?: string;
  entrypoint: string;
  config?: string;
  set?: string[];
  class: Schema<'CreateJobBody'>['resource_class'];
}

/** Packs DIR, uploads it, queues a job on it, and (with --wait/--follow) sees it through. */
export async function submit(context: CliContext, dir: string, options: SubmitOptions): Promise<ExitCode> {
  const config = configFromOverrides(options.set ?? []);
  const files = await filesToSend(dir, options);
  const packed = await packSubmission(dir, files);
  let submission: Schema<'SubmissionResponse'>;
  try {
    note(context.interactive, `packed ${files.length} file${files.length === 1 ? '' : 's'} from ${dir} (${formatBytes(packed.bytes)})`);
    const progress = new UploadProgress(context.interactive, packed.bytes);
    submission = await uploadSubmission({
      baseUrl: context.baseUrl,
      token: context.token,
      archive: packed.archive,
      archiveBytes: packed.bytes,
      fields: { entrypoint: options.entrypoint, config_file: options.config },
      onProgress: (sent) => progress.update(sent),
    });
    progress.done();
  } finally {
    await packed.remove();
  }
  note(context.interactive, `uploaded as submission ${submission.submission_id}`);

  const job = await call(context.baseUrl, () =>
    context.client.POST('/jobs', {
      // A fresh key: running the command again is a deliberate new run, not a replay.
      params: { header: { 'Idempotency-Key': randomUUID() } },
      body: {
        submission_id: submission.submission_id,
        resource_class: options.class,
        ...(config ? { config } : {}),
        ...(options.benchmark !== undefined ? { benchmark: options.benchmark } : {}),
      },
    }),
  );
  return finishJob(context, job, options);
}

/** Everything that can be refused without the API is refused here, before a byte is sent. */
async function filesToSend(dir: string, options: SubmitOptions): Promise<string[]> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder) throw usageError(`${dir} does not exist`);
  if (!folder.isDirectory()) throw usageError(`${dir} is not a folder; submit the folder that holds your code`);
  const files = await listSubmissionFiles(dir);
  if (files.length === 0) throw usageError(`${dir} holds no files to submit (after .gitignore and .leaderboardignore)`);
  const wanted: Array<[string, string]> = [['entrypoint', options.entrypoint]];
  if (options.config !== undefined) wanted.push(['config file', options.config]);
  for (const [role, name] of wanted) {
    const relative = name.split(path.sep).join('/').replace(/^\.\//, '');
    if (files.includes(relative)) continue;
    const reason = (await isRegularFile(path.join(dir, name)))
      ? 'is left out by .gitignore or .leaderboardignore'
      : 'does not exist';
    throw usageError(`the ${role} ${name} ${reason} in ${dir}${role === 'entrypoint' ? ' (set another one with --entrypoint FILE)' : ''}`);
  }
  return files;
}
