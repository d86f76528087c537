import { CliContext } from '../context';
import { EXIT, ExitCode } from '../exit-codes';
import { describeJob, Job, outcomeOf, waitForFinal } from '../job-outcome';
import { printJson, printLine } from '../output';
import { followLog } from '../log-stream';

export interface JobFinishOptions {
  wait?: boolean;
  follow?: boolean;
  json?: boolean;
}

/**
 * After a job was queued (submit, rerun): print its id, then with --wait or --follow see it to
 * the end and exit with what its final state means. Logs followed go to stderr, so stdout holds
 * only the job id, or only the JSON document with --json.
 */
export async function finishJob(context: CliContext, queued: Job, options: JobFinishOptions): Promise<ExitCode> {
  if (!options.json) printLine(queued.job_id);
  if (!options.wait && !options.follow) {
    if (options.json) printJson(await describeJob(context, queued));
    return EXIT.completed;
  }
  if (options.follow) await followLog(context, queued.job_id, 0, (text) => process.stderr.write(text));
  const job = await waitForFinal(context, queued.job_id);
  if (options.json) printJson(await describeJob(context, job));
  return outcomeOf(job);
}
