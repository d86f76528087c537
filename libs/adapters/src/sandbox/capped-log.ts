import { write } from 'node:fs';
import { Readable } from 'node:stream';

const MB = 2 ** 20;

/** JOB_LOG_MB's default: what one run may leave in its log on disk. */
export const DEFAULT_LOG_MB = 50;

/** The line that ends a cut log: the person reading it knows the rest exists and was dropped. */
export function logCutMarker(maxBytes: number): string {
  const size = maxBytes % MB === 0 ? `${maxBytes / MB} MB` : `${maxBytes} bytes`;
  return `[leadersboard: log cut at ${size}; the rest of the output was discarded]\n`;
}

/**
 * Copies what a run writes to its output pipe into the log file (opened for append), at most
 * `maxBytes`; then writes the marker line once and keeps reading and dropping the rest, so the run
 * never blocks on a full pipe and never learns where its output goes. Since the run holds a pipe,
 * not the file, it cannot fallocate, truncate or seek the log. Resolves once the pipe is closed and
 * every byte kept is written; never rejects (a failed write ends the copy, not the run).
 */
export function drainToLog(stream: Readable, fd: number, maxBytes: number): Promise<void> {
  return new Promise((resolve) => {
    let kept = 0;
    let cut = false;
    let writing = Promise.resolve();
    let lastByte = 0x0a;
    stream.on('data', (chunk: Buffer) => {
      if (cut) return;
      if (chunk.length === 0) return;
      let data = chunk;
      if (chunk.length > maxBytes - kept) {
        cut = true;
        const head = chunk.subarray(0, maxBytes - kept);
        if (head.length > 0) lastByte = head[head.length - 1];
        // The marker on a line of its own, even when the cut falls mid-line.
        data = Buffer.concat([head, Buffer.from(`${lastByte === 0x0a ? '' : '\n'}${logCutMarker(maxBytes)}`)]);
      } else {
        lastByte = chunk[chunk.length - 1];
      }
      kept += Math.min(chunk.length, maxBytes - kept);
      // One write at a time, in order: the pipe waits meanwhile (the run is slowed to the disk's pace until the cut).
      stream.pause();
      writing = writing
        .then(() => writeAll(fd, data))
        .catch(() => {
          cut = true;
        })
        .finally(() => stream.resume());
    });
    stream.on('error', () => undefined);
    stream.on('close', () => void writing.finally(resolve));
  });
}

function writeAll(fd: number, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (offset: number) => {
      if (offset >= data.length) return resolve();
      write(fd, data, offset, data.length - offset, null, (error, written) => (error ? reject(error) : step(offset + written)));
    };
    step(0);
  });
}
