import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TooLarge } from '@app/domain';

/** Bytes of an upload buffered on their way to disk, at most: a bound, never the whole upload. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/**
 * A multer storage engine that streams each file to disk and counts the bytes of all files of a
 * request together: past the per-submission limit it stops writing at once and removes the file,
 * instead of storing 12 × 99 MB before anyone adds them up.
 */
export class CappedDiskStorage implements StorageEngine {
  private readonly received = new WeakMap<Request, number>();
  /** Per request: the temp files it created, the stores still running, and who to tell when it is too large. */
  private readonly requests = new WeakMap<Request, { paths: Set<string>; running: Set<Promise<unknown>>; tooLarge?: TooLarge; onTooLarge?: (error: TooLarge) => void }>();

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
  ) {}

  /** Calls `onTooLarge` as soon as the request passes the limit, while multer would still read the rest. */
  watch(request: Request, onTooLarge: (error: TooLarge) => void): void {
    this.state(request).onTooLarge = onTooLarge;
  }

  /** Removes every temp file of the request, once no store of it is still running. */
  async removeAll(request: Request): Promise<void> {
    const state = this.state(request);
    await Promise.allSettled([...state.running]);
    await Promise.all([...state.paths].map((each) => rm(each, { force: true })));
  }

  _handleFile(request: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const target = path.join(this.directory, randomUUID());
    const state = this.state(request);
    // Past the limit no further file is started.
    if (state.tooLarge) {
      file.stream.resume();
      callback(state.tooLarge);
      return;
    }
    const storing = this.store(request, file, target);
    state.running.add(storing);
    void storing.catch(() => undefined).finally(() => state.running.delete(storing));
    storing.then(
      (size) => callback(null, { path: target, size }),
      async (error: unknown) => {
        await rm(target, { force: true });
        callback(error);
      },
    );
  }

  _removeFile(_request: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    rm(file.path, { force: true }).then(() => callback(null), callback);
  }

  private async store(request: Request, file: Express.Multer.File, target: string): Promise<number> {
    // Created before a byte is read, and named on the file at once, so an abort always finds it.
    const state = this.state(request);
    const handle = await open(target, 'wx');
    state.paths.add(target);
    file.path = target;
    let size = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const total = (this.received.get(request) ?? 0) + chunk.length;
        this.received.set(request, total);
        size += chunk.length;
        if (total > this.maxBytes) {
          state.tooLarge ??= new TooLarge(`the uploaded files add up to more than the ${this.maxBytes / 2 ** 20} MB limit per submission (MAX_SUBMISSION_MB)`);
          state.onTooLarge?.(state.tooLarge);
          done(state.tooLarge);
        } else {
          done(null, chunk);
        }
      },
    });
    // A deeper write buffer than the 16 KB default: the socket is read while a write is in flight
    // and queued chunks go out in one writev, instead of one thread-pool round trip per 64 KB read.
    await pipeline(file.stream, counter, handle.createWriteStream({ highWaterMark: WRITE_BUFFER_BYTES }));
    return size;
  }

  private state(request: Request) {
    let state = this.requests.get(request);
    if (!state) {
      state = { paths: new Set<string>(), running: new Set<Promise<unknown>>() };
      this.requests.set(request, state);
    }
    return state;
  }
}
