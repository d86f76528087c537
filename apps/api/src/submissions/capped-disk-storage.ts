import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { randomUUID } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TooLarge } from '@app/domain';

/**
 * A multer storage engine that streams each file to disk and counts the bytes of all files of a
 * request together: past the per-submission limit it stops writing at once and removes the file,
 * instead of storing 12 × 99 MB before anyone adds them up.
 */
export class CappedDiskStorage implements StorageEngine {
  private readonly received = new WeakMap<Request, number>();

  constructor(
    private readonly directory: string,
    private readonly maxBytes: number,
  ) {}

  _handleFile(request: Request, file: Express.Multer.File, callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const target = path.join(this.directory, randomUUID());
    this.store(request, file, target).then(
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
    const handle = await open(target, 'wx');
    file.path = target;
    let size = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        const total = (this.received.get(request) ?? 0) + chunk.length;
        this.received.set(request, total);
        size += chunk.length;
        if (total > this.maxBytes) {
          done(new TooLarge(`the uploaded files add up to more than the ${this.maxBytes / 2 ** 20} MB limit per submission (MAX_SUBMISSION_MB)`));
        } else {
          done(null, chunk);
        }
      },
    });
    await pipeline(file.stream, counter, handle.createWriteStream());
    return size;
  }
}
