import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import {
  Conflict,
  DomainError,
  Forbidden,
  Invalid,
  NotFound,
  RateLimited,
  TooLarge,
  Unavailable,
} from '@app/domain';
import { ErrorBody } from './error-body.dto';

const DOMAIN_STATUS = new Map<Function, number>([
  [Invalid, 400],
  [Forbidden, 403],
  [NotFound, 404],
  [Conflict, 409],
  [TooLarge, 413],
  [RateLimited, 429],
  [Unavailable, 503],
]);

/** Turns every error into `{statusCode, error, message}`; anything unexpected is a logged 500. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    // Retry-After is whole seconds (RFC 9110), as the OpenAPI document promises.
    if (exception instanceof RateLimited) response.setHeader('Retry-After', String(Math.max(0, Math.ceil(exception.retryAfterSeconds))));
    if (body.statusCode === 401) response.setHeader('WWW-Authenticate', 'Bearer realm="leadersboard"');
    if (body.statusCode >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      const status = DOMAIN_STATUS.get(exception.constructor) ?? 500;
      const details = exception instanceof Invalid ? exception.problems : undefined;
      return body(status, exception.message, details);
    }
    if (exception instanceof HttpException) {
      const reply = exception.getResponse();
      const message = typeof reply === 'string' ? reply : (reply as { message?: unknown }).message;
      return body(exception.getStatus(), Array.isArray(message) ? message.join('; ') : String(message ?? exception.message));
    }
    // body-parser errors (body too large, bad encoding) carry an http-errors status.
    const status = (exception as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) return body(status, (exception as Error).message);
    return body(500, 'internal error; it was logged, please report it');
  }
}

function body(statusCode: number, message: string, details?: string[]): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(details ? { details } : {}) };
}
