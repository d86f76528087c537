import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { FsThreadPool, sharedFsThreads } from '@app/adapters';
import { TooLarge } from '@app/domain';

/** Bytes of an upload buffered on their way to disk, at most: a bound, never the whole upload. */
const WRITE_BUFFER_BYTES = 256 * 1024;

/** Pieces of one file being written at once: the socket is read on while they land. */
const PIECES_IN_FLIGHT = 4;

/**
 * Streams a file to disk in pieces of up to WRITE_BUFFER_BYTES, each one thread task (open, write at
 * its offset, close), several at once while the socket goes on being read. A file that arrives in
 * one chunk is one task in all, where a write stream spends three round trips (open, write, close)
 * that each wait for a CPU on a busy host, and a large one never waits on one write at a time.
 * Memory per upload: at most one buffer and PIECES_IN_FLIGHT pieces (1.25 MB).
 */
class ChunkedFileWriter {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private position = 0;
  private created?: Promise<void>;
  private readonly inFlight: Promise<void>[] = [];

  constructor(
    private readonly threads: FsThreadPool,
    private readonly target: string,
  ) {}

  /**
   * Resolves once the chunk is buffered, or once a piece has landed when PIECES_IN_FLIGHT are out.
   * The first chunk goes out at once: the file exists from the start of the upload, as with a stream.
   */
  async write(chunk: Buffer): Promise<void> {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (!this.created || this.bufferedBytes >= WRITE_BUFFER_BYTES) await this.flush();
  }

  async end(): Promise<void> {
    if (this.bufferedBytes > 0 || !this.created) await this.flush();
    await Promise.all(this.inFlight);
  }

  /** Waits for every piece in flight, whatever its outcome. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  private async flush(): Promise<void> {
    if (this.inFlight.length >= PIECES_IN_FLIGHT) await this.inFlight.shift();
    const data = Buffer.concat(this.buffered);
    const position = this.position;
    this.buffered = [];
    this.bufferedBytes = 0;
    this.position += data.length;
    // Later pieces open the file the first one creates.
    const created = this.created;
    const piece = created
      ? created.then(() => this.threads.writeAt(this.target, data, position, false))
      : this.threads.writeAt(this.target, data, position, true);
    this.created ??= piece;
    // Awaited in turn, by end() or by settled(); an upload abandoned meanwhile must not leave it unhandled.
    piece.catch(() => undefined);
    this.inFlight.push(piece);
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
