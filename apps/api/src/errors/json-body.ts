import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UnsupportedMediaTypeException } from '@nestjs/common';
import express, { Request, Response } from 'express';
import { isUtf8 } from 'node:buffer';
import { Observable } from 'rxjs';
import { JsonSyntaxError, parseStrictJson } from '@app/adapters';
import { Invalid, JSON_LIMITS, jsonShapeProblem, TooLarge } from '@app/domain';

/** The largest JSON request body; POST /jobs is the only route with one, and its config is capped lower. */
export const MAX_JSON_BODY_BYTES = 256 * 1024;
/** A body may nest one level more than the JSON objects it carries. */
export const MAX_JSON_BODY_DEPTH = JSON_LIMITS.maxDepth + 1;

const parseJson = express.json({
  limit: MAX_JSON_BODY_BYTES,
  // Any JSON value parses, so that a non-object gets a clear message below.
  strict: false,
  verify: (_request, _response, buffer, encoding) => {
    if (encoding.toLowerCase() !== 'utf-8') {
      throw new UnsupportedMediaTypeException(`charset "${encoding}" is not supported; send JSON as UTF-8`);
    }
    if (!isUtf8(buffer)) throw new Invalid(['the request body is not valid UTF-8; send JSON encoded as UTF-8']);
    const duplicate = duplicateKey(buffer.toString('utf8'));
    if (duplicate) throw new Invalid([`the request body names ${duplicate} twice in one object; send each field once`]);
  },
});

/**
 * For the routes that read a JSON body, and only those (other routes never read one): after
 * authentication, and before validation or any recursive code (class-transformer) sees it,
 * requires Content-Type application/json in UTF-8 (else 415), at most MAX_JSON_BODY_BYTES (413),
 * valid JSON, an object at the top, at most MAX_JSON_BODY_DEPTH deep and no prototype keys (400).
 */
@Injectable()
export class JsonBody implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const request = context.switchToHttp().getRequest<Request>();
    const sent = request.headers['content-type'];
    if (sent?.split(';')[0].trim().toLowerCase() !== 'application/json') {
      throw new UnsupportedMediaTypeException(
        `${sent ? `Content-Type "${sent}" is not supported` : 'no Content-Type was sent'}; send the body as JSON with Content-Type: application/json`,
      );
    }
    await new Promise<void>((resolve, reject) =>
      parseJson(request, context.switchToHttp().getResponse<Response>(), (error?: unknown) => (error ? reject(parseError(error)) : resolve())),
    );
    const body: unknown = request.body;
    if (body === undefined) throw new Invalid(['the request body is empty; send a JSON object']);
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new Invalid(['the request body must be a JSON object, like {"submission_id": "…"}']);
    }
    // Before class-transformer copies it: a "__proto__" key would become the copy's prototype.
    const problem = jsonShapeProblem('the request body', body, MAX_JSON_BODY_DEPTH);
    if (problem) throw new Invalid([problem]);
    return next.handle();
  }
}

/**
 * JSON.parse keeps the last of two equal keys, another reader may keep the first: a body that
 * names a field twice is refused rather than read one way here and another way by its sender.
 * Other syntax errors and depth are left to JSON.parse and the shape check, with their messages.
 */
function duplicateKey(text: string): string | undefined {
  try {
    parseStrictJson(text.replace(/^\uFEFF/, ''), MAX_JSON_BODY_DEPTH + 1);
  } catch (error) {
    const match = error instanceof JsonSyntaxError ? /^duplicate key (".*") at character/.exec(error.message) : null;
    if (match) return match[1];
  }
  return undefined;
}

/** body-parser's own errors, in words a client can act on; the verify errors above pass as they are. */
function parseError(error: unknown): unknown {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') {
    return new Invalid([`the request body is not valid JSON (${(error as Error).message}); send a JSON object`]);
  }
  if (type === 'entity.too.large') {
    return new TooLarge(`the JSON body is larger than ${MAX_JSON_BODY_BYTES / 1024} KiB; config may be at most ${JSON_LIMITS.maxBytes / 1024} KiB`);
  }
  return error;
}
