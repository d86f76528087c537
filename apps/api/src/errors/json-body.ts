import { CallHandler, ExecutionContext, INestApplication, Injectable, NestInterceptor, UnsupportedMediaTypeException } from '@nestjs/common';
import express, { NextFunction, Request, Response } from 'express';
import { isUtf8 } from 'node:buffer';
import { Observable } from 'rxjs';
import { Invalid, JSON_LIMITS, jsonShapeProblem, TooLarge } from '@app/domain';

/** The largest JSON request body; POST /jobs is the only route with one, and its config is capped lower. */
export const MAX_JSON_BODY_BYTES = 256 * 1024;
/** A body may nest one level more than the JSON objects it carries. */
export const MAX_JSON_BODY_DEPTH = JSON_LIMITS.maxDepth + 1;

/**
 * Parses JSON bodies of at most MAX_JSON_BODY_BYTES, in UTF-8 only, and refuses before any
 * recursive code (validation, class-transformer) sees them: malformed JSON, invalid UTF-8,
 * anything but an object at the top, nesting deeper than MAX_JSON_BODY_DEPTH, prototype keys.
 */
export function useJsonBody(app: INestApplication): void {
  app.use(
    express.json({
      limit: MAX_JSON_BODY_BYTES,
      // Any JSON value parses, so that a non-object gets a clear message below.
      strict: false,
      verify: (_request, _response, buffer, encoding) => {
        if (encoding.toLowerCase() !== 'utf-8') {
          throw new UnsupportedMediaTypeException(`charset "${encoding}" is not supported; send JSON as UTF-8`);
        }
        if (!isUtf8(buffer)) throw new Invalid(['the request body is not valid UTF-8; send JSON encoded as UTF-8']);
      },
    }),
  );
  app.use((error: Error & { type?: string }, _request: Request, _response: Response, next: NextFunction) => {
    if (error.type === 'entity.parse.failed') {
      next(new Invalid([`the request body is not valid JSON (${error.message}); send a JSON object`]));
    } else if (error.type === 'entity.too.large') {
      next(new TooLarge(`the JSON body is larger than ${MAX_JSON_BODY_BYTES / 1024} KiB; config may be at most ${JSON_LIMITS.maxBytes / 1024} KiB`));
    } else {
      next(error);
    }
  });
  app.use((request: Request, _response: Response, next: NextFunction) => {
    const body: unknown = request.body;
    if (body === undefined) return next();
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return next(new Invalid(['the request body must be a JSON object, like {"submission_id": "…"}']));
    }
    // Before class-transformer copies it: a "__proto__" key would become the copy's prototype.
    const problem = jsonShapeProblem('the request body', body, MAX_JSON_BODY_DEPTH);
    next(problem ? new Invalid([problem]) : undefined);
  });
}

/** For routes that read a JSON body: any other (or no) Content-Type is a 415, before validation runs. */
@Injectable()
export class RequireJsonBody implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<Request>();
    const sent = request.headers['content-type'];
    if (sent?.split(';')[0].trim().toLowerCase() !== 'application/json') {
      throw new UnsupportedMediaTypeException(
        `${sent ? `Content-Type "${sent}" is not supported` : 'no Content-Type was sent'}; send the body as JSON with Content-Type: application/json`,
      );
    }
    if (request.body === undefined) throw new Invalid(['the request body is empty; send a JSON object']);
    return next.handle();
  }
}
