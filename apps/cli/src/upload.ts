import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Schema } from '@app/client';
import { REQUEST_TIMEOUT_MS, refused, unreachable } from './api-call';
import { CliFailure, EXIT } from './exit-codes';

export interface UploadRequest {
  baseUrl: string;
  token: string | undefined;
  archive: string;
  archiveBytes: number;
  /** Form fields of POST /submissions besides the file (entrypoint, config_file). */
  fields: Partial<Record<'entrypoint' | 'config_file' | 'metadata', string>>;
  onProgress(sent: number): void;
}

/**
 * POST /submissions with the archive as `files`. Done with node:http rather than the typed client
 * because fetch cannot report how much of a request body was sent; the answer is still typed.
 */
export function uploadSubmission(request: UploadRequest): Promise<Schema<'SubmissionResponse'>> {
  const boundary = `leaderboard-${randomUUID()}`;
  const fieldParts = Object.entries(request.fields)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    .join('');
  const head = Buffer.from(
    `${fieldParts}--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="submission.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const url = new URL(`${request.baseUrl}/submissions`);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise((resolve, reject) => {
    const outgoing = transport.request(url, {
      method: 'POST',
      headers: {
        'Content-Type': `multipart/form-data; boundary=${boundary}`,
        'Content-Length': head.length + request.archiveBytes + tail.length,
        Accept: 'application/json',
        ...(request.token ? { Authorization: `Bearer ${request.token}` } : {}),
      },
    });
    // An idle socket this long means the API is gone; a slow but moving upload is fine.
    outgoing.setTimeout(REQUEST_TIMEOUT_MS, () => outgoing.destroy(Object.assign(new Error('timed out'), { name: 'TimeoutError' })));
    // The API may answer (401, 413) before it read the whole body; then that answer is what counts.
    let answered = false;
    outgoing.on('error', (error) => {
      if (!answered) reject(unreachable(request.baseUrl, error));
    });
    outgoing.on('response', (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (error) => reject(unreachable(request.baseUrl, error)));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = response.statusCode ?? 0;
        const body = parseJson(text);
        if (status === 201 && body !== undefined) resolve(body as Schema<'SubmissionResponse'>);
        else if (status === 201) reject(new CliFailure(`the API accepted the upload but its answer is not JSON: ${text.slice(0, 200)}`, EXIT.apiError));
        else reject(refused(status, header(response.headers['retry-after']), body ?? text));
      });
    });

    let sent = 0;
    outgoing.write(head);
    const file = createReadStream(request.archive);
    file.on('data', (chunk) => {
      if (answered) return void file.destroy();
      sent += chunk.length;
      request.onProgress(sent);
      if (!outgoing.write(chunk)) file.pause();
    });
    outgoing.on('drain', () => file.resume());
    file.on('error', (error) => outgoing.destroy(error));
    file.on('end', () => outgoing.end(tail));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
