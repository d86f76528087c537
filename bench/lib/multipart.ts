import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';

export const BOUNDARY = '----leadersboard-bench-7d1f0c2b';
export const MULTIPART_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

export interface Part {
  name: string;
  filename?: string;
  body: Buffer | string;
}

function partHead(part: Part): string {
  const disposition = part.filename
    ? `form-data; name="${part.name}"; filename="${part.filename}"`
    : `form-data; name="${part.name}"`;
  const type = part.filename ? 'Content-Type: application/octet-stream\r\n' : '';
  return `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${type}\r\n`;
}

/** A whole multipart/form-data body in memory (built once, sent many times). */
export function multipartBody(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(partHead(part)), Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

/** A Python file of exactly `bytes` bytes: a print statement padded with comment lines. */
export function pythonFile(bytes: number): Buffer {
  const head = 'print("leadersboard bench")\n';
  const line = '# ' + 'x'.repeat(61) + '\n';
  let text = head + line.repeat(Math.floor((bytes - head.length) / line.length));
  text += '#'.repeat(Math.max(0, bytes - text.length - 1)) + '\n';
  return Buffer.from(text.slice(0, bytes));
}

export interface UploadResult {
  status: number;
  body: string;
  ms: number;
}

/**
 * Posts `small` parts plus one file streamed from disk as a multipart body, so the benchmark
 * process never holds the large file in memory.
 */
export async function streamUpload(
  url: string,
  headers: Record<string, string>,
  small: Part[],
  file: { name: string; filename: string; path: string },
): Promise<UploadResult> {
  const head = Buffer.concat([
    ...small.flatMap((part) => [Buffer.from(partHead(part)), Buffer.from(part.body), Buffer.from('\r\n')]),
    Buffer.from(partHead({ name: file.name, filename: file.filename, body: '' })),
  ]);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const length = head.length + statSync(file.path).size + tail.length;
  const started = performance.now();
  return new Promise<UploadResult>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': MULTIPART_TYPE, 'Content-Length': String(length) },
    });
    req.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }),
      );
      response.on('error', reject);
    });
    req.on('error', reject);
    pipeline(
      async function* () {
        yield head;
        for await (const chunk of createReadStream(file.path, { highWaterMark: 1024 * 1024 })) yield chunk;
        yield tail;
      },
      req,
    ).catch(reject);
  });
}
