import { callWithResponse } from '../api-call';
import { CliContext } from '../context';
import { EXIT, ExitCode } from '../exit-codes';
import { fetchJob, outcomeOf } from '../job-outcome';
import { followLog } from '../log-stream';
import { printJson } from '../output';

export interface LogsOptions {
  follow?: boolean;
  offset?: number;
  json?: boolean;
}

/**
 * Prints a job's log to stdout. With --follow it streams until the job is final and exits with
 * what that final state means (as submit --wait does); --json writes one JSON object a line.
 */
export async function logs(context: CliContext, jobId: string, options: LogsOptions): Promise<ExitCode> {
  const from = options.offset ?? 0;
  if (options.follow) {
    const end = await followLog(context, jobId, from, (text, offset) => {
      process.stdout.write(options.json ? `${JSON.stringify({ offset, text })}\n` : text);
    });
    if (options.json) process.stdout.write(`${JSON.stringify({ offset: end.offset, status: end.status, error_message: end.error_message })}\n`);
    return outcomeOf(await fetchJob(context, jobId));
  }
  let offset = from;
  let whole = '';
  for (;;) {
    const { data, response } = await callWithResponse(context.baseUrl, () =>
      context.client.GET('/jobs/{id}/logs', { params: { path: { id: jobId }, query: { offset } }, parseAs: 'text' }),
    );
    const next = Number(response.headers.get('x-next-offset'));
    const size = Number(response.headers.get('x-log-size'));
    const text = data ?? '';
    if (options.json) whole += text;
    else process.stdout.write(text);
    // The route answers at most 8 MiB at a time: read on until the size it reported.
    if (!Number.isFinite(next) || !Number.isFinite(size) || next <= offset || next >= size) {
      if (options.json) printJson({ job_id: jobId, offset: from, next_offset: Number.isFinite(next) ? next : null, text: whole });
      return EXIT.completed;
    }
    offset = next;
  }
}
