import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiResponse } from '@nestjs/swagger';
import type { HeadersObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ErrorBody } from './error-body.dto';

const MEANINGS: Record<number, string> = {
  400: 'Invalid input or request headers; `details` lists every offending field',
  401: 'Missing or unknown bearer token',
  403: 'The resource belongs to another user, or the route is for admins',
  404: 'Unknown id',
  409: 'Conflicts with the current state',
  413: 'The body, a file or an archive is larger than allowed',
  415: 'The body is not of the Content-Type (or charset) the route takes',
  429: 'Over a per-user or per-client limit; retry after Retry-After seconds',
  431: 'A request header is too large',
  503: 'A dependency (Redis, queue, disk, tracking server) is down',
};

/** Headers the error responses carry, so clients (and the contract test) can rely on them. */
const HEADERS: Record<number, HeadersObject> = {
  401: { 'WWW-Authenticate': { description: 'The scheme to authenticate with', required: true, schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds to wait before retrying', required: true, schema: { type: 'integer', minimum: 0 } } },
};

/** Errors every route with a bearer token can give, whatever it does. */
const AUTH_ERRORS = [400, 401, 429, 431];

/** Documents the error responses a route can give, all as JSON with the ErrorBody shape. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: MEANINGS[status], type: ErrorBody, ...(HEADERS[status] ? { headers: HEADERS[status] } : {}) }),
    ),
  );
}

/** A controller whose routes need `Authorization: Bearer <token>`, with the errors that brings. */
export function ApiProtected(): ClassDecorator {
  return applyDecorators(ApiBearerAuth(), ApiErrors(...AUTH_ERRORS));
}
