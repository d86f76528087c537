import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { rm } from 'node:fs/promises';
import { Observable, catchError } from 'rxjs';
import { AppConfig, incomingDir } from '@app/adapters';
import { DomainError, Invalid, RateLimited, TooLarge, Unavailable } from '@app/domain';
import { AuthenticatedRequest } from '../auth/caller.decorator';
import { CappedDiskStorage } from './capped-disk-storage';
import { closeAfterResponse } from './lingering-close';

export const UPLOAD_FIELDS = ['entrypoint', 'config_file', 'metadata'];
const MAX_FIELD_BYTES = 64 * 1024;
/** Room for the multipart framing and the text fields on top of the files themselves. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;
const UPLOAD_RETRY_SECONDS = 5;

/**
 * Streams the multipart `files` field to disk (never to memory) under the upload root, so storing
 * a submission is a rename. Temporary files are removed whatever the outcome. Each upload holds a
 * socket and temp files, so uploads at once are capped per user and per process, and a body that
 * stalls is cut after UPLOAD_IDLE_TIMEOUT_S.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly upload: RequestHandler;
  private readonly storage: CappedDiskStorage;
  private readonly activeByUser = new Map<string, number>();
  private activeTotal = 0;

  constructor(private readonly config: AppConfig) {
    this.storage = new CappedDiskStorage(incomingDir(config.uploadRoot), config.maxSubmissionBytes);
    this.upload = multer({
      storage: this.storage,
      // File names as sent: busboy's default would read UTF-8 names as latin-1 ("模型.py" -> "æ¨¡å.py").
      defParamCharset: 'utf8',
      limits: {
        fileSize: config.maxFileBytes,
        files: config.maxFilesPerSubmission,
        fields: 10,
        fieldSize: MAX_FIELD_BYTES,
      },
    }).array('files', config.maxFilesPerSubmission);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    try {
      this.checkDeclaredLength(request);
      this.admit(request.caller?.userId ?? '', response);
      await this.receive(request, response);
    } catch (error) {
      // The body may be unread or half read: answer now and close, rather than read the rest.
      closeAfterResponse(response);
      await this.storage.removeAll(request);
      await removeTemporaryFiles(request);
      throw this.toDomainError(error);
    }
    // On success the use case has moved or removed every upload it was handed. On failure, cleanup
    // finishes before the response goes out, so a client never sees leftovers.
    return next.handle().pipe(
      catchError(async (error) => {
        await removeTemporaryFiles(request);
        throw error;
      }),
    );
  }

  /** A Content-Length over the limit is refused before a byte of the body is read. */
  private checkDeclaredLength(request: Request): void {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.config.maxSubmissionBytes + FORM_OVERHEAD_BYTES) {
      throw new TooLarge(`the upload is ${megabytes(declared)} MB, over the ${megabytes(this.config.maxSubmissionBytes)} MB limit per submission (MAX_SUBMISSION_MB)`);
    }
  }

  /** Takes an upload slot for the user until the response is done or the connection drops. */
  private admit(userId: string, response: Response): void {
    const { perUser, total } = this.config.concurrentUploads;
    const mine = this.activeByUser.get(userId) ?? 0;
    if (mine >= perUser) {
      throw new RateLimited(
        `too many uploads at once: you have ${mine} in progress, the limit per user (MAX_CONCURRENT_UPLOADS_PER_USER); wait for one to finish`,
        UPLOAD_RETRY_SECONDS,
      );
    }
    if (this.activeTotal >= total) {
      throw new RateLimited(
        `too many uploads at once: the server has ${this.activeTotal} in progress, its limit (MAX_CONCURRENT_UPLOADS); try again in a few seconds`,
        UPLOAD_RETRY_SECONDS,
      );
    }
    this.activeByUser.set(userId, mine + 1);
    this.activeTotal += 1;
    response.once('close', () => {
      const left = (this.activeByUser.get(userId) ?? 1) - 1;
      if (left > 0) this.activeByUser.set(userId, left);
      else this.activeByUser.delete(userId);
      this.activeTotal -= 1;
    });
  }

  /** Runs multer, cutting the connection when the body stalls for UPLOAD_IDLE_TIMEOUT_S. */
  private async receive(request: Request, response: Response): Promise<void> {
    const socket = request.socket;
    const onIdle = (): void => {
      socket.destroy(new Error(`no data for ${this.config.uploadIdleTimeoutSeconds} s`));
    };
    socket.setTimeout(this.config.uploadIdleTimeoutSeconds * 1000);
    socket.on('timeout', onIdle);
    try {
      await new Promise<void>((resolve, reject) => {
        // Past the total limit the answer goes out at once; multer would first read the whole body.
        this.storage.watch(request, reject);
        this.upload(request, response, (error?: unknown) => (error ? reject(error) : resolve()));
      });
    } finally {
      socket.off('timeout', onIdle);
      socket.setTimeout(0);
    }
  }

  private toDomainError(error: unknown): Error {
    if (error instanceof DomainError) return error;
    if (error instanceof MulterError) {
      switch (error.code) {
        case 'LIMIT_FILE_SIZE':
          return new TooLarge(`a file is larger than the ${this.config.maxFileBytes / 2 ** 20} MB limit per file (MAX_FILE_MB)`);
        case 'LIMIT_FILE_COUNT':
          return new Invalid([`files: at most ${this.config.maxFilesPerSubmission} files per submission; pack more into a .zip or .tar.gz`]);
        case 'LIMIT_UNEXPECTED_FILE':
          return new Invalid([`unexpected file field "${error.field}"; send files in the "files" field`]);
        case 'LIMIT_FIELD_VALUE':
          return new TooLarge(`form field "${error.field}" is larger than ${MAX_FIELD_BYTES / 1024} KB`);
        case 'LIMIT_FIELD_COUNT':
          return new Invalid([`too many form fields; the fields are files, ${UPLOAD_FIELDS.join(', ')}`]);
        default:
          return new Invalid([`the upload was rejected: ${error.message}`]);
      }
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EMFILE' || code === 'ENFILE') {
      return new Unavailable(`the upload could not be written to disk (${code}); tell the operator`);
    }
    return new Invalid([`the multipart body is malformed (${(error as Error).message}); send multipart/form-data`]);
  }
}

async function removeTemporaryFiles(request: Request): Promise<void> {
  // After an early answer multer may still hold placeholders for files it has not stored.
  const files = Array.isArray(request.files) ? request.files : [];
  await Promise.all(files.filter((file) => typeof file.path === 'string').map((file) => rm(file.path, { force: true })));
}

function megabytes(bytes: number): string {
  return String(Math.round((bytes / 2 ** 20) * 10) / 10);
}
