import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { FsThreadPool, sharedFsThreads } from '@app/adapters';
import { TooLarge } from '@app/domain';

/** Bytes of an upload buffered on their way to disk, at most: a bound, never the whole upload. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/**
 * Streams a file to disk in pieces of up to WRITE_BUFFER_BYTES, each one thread task (open, write,
 * close), while the socket goes on being read. A file that arrives in one chunk is one task in all,
 * where a write stream spends three round trips (open, write, close) that each wait for a CPU on a
 * busy host.
 */
class ChunkedFileWriter {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private created = false;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly threads: FsThreadPool,
    private readonly target: string,
  ) {}

  /**
   * Resolves once the chunk is buffered; waits for the piece before to land when the buffer is full.
   * The first chunk goes out at once: the file exists from the start of the upload, as with a stream.
   */
  async write(chunk: Buffer): Promise<void> {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (!this.created || this.bufferedBytes >= WRITE_BUFFER_BYTES) await this.flush();
  }

  async end(): Promise<void> {
    if (this.bufferedBytes > 0 || !this.created) await this.flush();
    await this.flushing;
  }

  private async flush(): Promise<void> {
    // At most one piece in flight and one buffered: the bound on memory per upload.
    await this.flushing;
    const data = Buffer.concat(this.buffered);
    const create = !this.created;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.created = true;
    const piece = this.threads.appendChunk(this.target, data, create);
    // Awaited by the next flush or by end(); an upload abandoned meanwhile must not leave it unhandled.
    piece.catch(() => undefined);
    this.flushing = piece;
  }

  /** Waits for the piece in flight, whatever its outcome. */
  async settled(): Promise<void> {
    await this.flushing.catch(() => undefined);
  }
}

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
    private readonly threads: FsThreadPool = sharedFsThreads(),
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
    // Named on the request and the file before a byte is written, so an abort always finds it.
    const state = this.state(request);
    state.paths.add(target);
    file.path = target;
    const writer = new ChunkedFileWriter(this.threads, target);
    let size = 0;
    try {
      for await (const chunk of file.stream as AsyncIterable<Buffer>) {
        const total = (this.received.get(request) ?? 0) + chunk.length;
        this.received.set(request, total);
        if (total > this.maxBytes) {
          state.tooLarge ??= new TooLarge(`the uploaded files add up to more than the ${this.maxBytes / 2 ** 20} MB limit per submission (MAX_SUBMISSION_MB)`);
          state.onTooLarge?.(state.tooLarge);
          throw state.tooLarge;
        }
        size += chunk.length;
        await writer.write(chunk);
      }
      await writer.end();
    } catch (error) {
      // A piece still in flight could create the file after the caller removed it.
      await writer.settled();
      throw error;
    }
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
