import { SseParser, type Schema } from '@app/client';
import { refused, unreachable } from './api-call';
import { CliContext } from './context';
import { CliFailure, EXIT } from './exit-codes';
import { report } from './output';

export interface LogEnd {
  status: Schema<'JobResponse'>['status'] | null;
  error_message: string | null;
  /** The byte offset after the last chunk. */
  offset: number;
}

/** Reconnects in a row without getting any further before the stream counts as broken. */
const MAX_STALLED_RECONNECTS = 5;

/**
 * Follows a job's log through GET /jobs/{id}/logs?follow=true (Server-Sent Events) until the
 * `end` event, handing each chunk of text to `onText`. A dropped connection resumes from the last
 * event id (the byte offset), so no text is lost or repeated.
 */
export async function followLog(context: CliContext, jobId: string, fromOffset: number, onText: (text: string, offset: number) => void): Promise<LogEnd> {
  let offset = fromOffset;
  let stalled = 0;
  for (;;) {
    const before = offset;
    const end = await readStream(context, jobId, offset, (text, next) => {
      offset = next;
      onText(text, next);
    }, (restartedAt) => {
      offset = restartedAt;
    });
    if (end) return end;
    stalled = offset === before ? stalled + 1 : 0;
    if (stalled > MAX_STALLED_RECONNECTS) throw new CliFailure(`the log stream of job ${jobId} keeps closing without its end`, EXIT.apiError);
    await new Promise((resolve) => setTimeout(resolve, 500 * stalled));
  }
}

/** One connection: resolves with the end event, or undefined when the stream closed before it. */
async function readStream(
  context: CliContext,
  jobId: string,
  offset: number,
  onText: (text: string, next: number) => void,
  onRestart: (offset: number) => void,
): Promise<LogEnd | undefined> {
  let result;
  try {
    result = await context.streamClient.GET('/jobs/{id}/logs', {
      params: { path: { id: jobId }, query: { follow: 'true', offset } },
      parseAs: 'stream',
    });
  } catch (error) {
    throw unreachable(context.baseUrl, error);
  }
  const { response } = result;
  if (!response.ok) throw refused(response.status, response.headers.get('retry-after'), result.error);
  const body = result.data as ReadableStream<Uint8Array> | null | undefined;
  if (!body) return undefined;
  const parser = new SseParser();
  const decoder = new TextDecoder();
  try {
    for await (const chunk of body) {
      for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
        const next = Number(event.id);
        if (event.event === 'end') {
          const data = JSON.parse(event.data || '{}') as Partial<LogEnd>;
          return { status: data.status ?? null, error_message: data.error_message ?? null, offset: Number.isFinite(next) ? next : offset };
        }
        if (event.event === 'restart') {
          report(`--- job ${jobId} started over (its worker was lost); its log starts again ---`);
          onRestart(0);
          continue;
        }
        if (event.event !== 'message' || !Number.isFinite(next)) continue;
        const text = (JSON.parse(event.data) as { text?: unknown }).text;
        if (typeof text === 'string') onText(text, next);
      }
    }
  } catch (error) {
    if (error instanceof SyntaxError) throw new CliFailure(`the log stream of job ${jobId} sent an event that is not JSON`, EXIT.apiError);
    // A connection cut mid-stream is resumed by the caller from the last offset.
    return undefined;
  }
  return undefined;
}
