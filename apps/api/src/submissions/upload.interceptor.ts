import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Observable, catchError, mergeMap } from 'rxjs';
import { AppConfig, incomingDir } from '@app/adapters';
import { DomainError, Invalid, TooLarge, Unavailable } from '@app/domain';

export const UPLOAD_FIELDS = ['entrypoint', 'config_file', 'metadata'];
const MAX_FIELD_BYTES = 64 * 1024;

/**
 * Streams the multipart `files` field to disk (never to memory) under the upload root, so storing
 * a submission is a rename. Temporary files are removed whatever the outcome.
 */
@Injectable()
export class UploadInterceptor implements NestInterceptor {
  private readonly upload: RequestHandler;

  constructor(private readonly config: AppConfig) {
    this.upload = multer({
      storage: multer.diskStorage({
        destination: incomingDir(config.uploadRoot),
        filename: (_request, _file, done) => done(null, randomUUID()),
      }),
      limits: {
        fileSize: config.maxFileBytes,
        files: config.maxFilesPerSubmission,
        fields: 10,
        fieldSize: MAX_FIELD_BYTES,
      },
    }).array('files', config.maxFilesPerSubmission);
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<Request>();
    const response = context.switchToHttp().getResponse<Response>();
    try {
      await new Promise<void>((resolve, reject) => this.upload(request, response, (error?: unknown) => (error ? reject(error) : resolve())));
    } catch (error) {
      await removeTemporaryFiles(request);
      throw this.toDomainError(error);
    }
    // Cleanup finishes before the response goes out, so a client never sees leftovers.
    return next.handle().pipe(
      mergeMap(async (value) => {
        await removeTemporaryFiles(request);
        return value;
      }),
      catchError(async (error) => {
        await removeTemporaryFiles(request);
        throw error;
      }),
    );
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
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS') {
      return new Unavailable(`the upload could not be written to disk (${code}); tell the operator`);
    }
    return new Invalid([`the multipart body is malformed (${(error as Error).message}); send multipart/form-data`]);
  }
}

async function removeTemporaryFiles(request: Request): Promise<void> {
  const files = Array.isArray(request.files) ? request.files : [];
  await Promise.all(files.map((file) => rm(file.path, { force: true })));
}
