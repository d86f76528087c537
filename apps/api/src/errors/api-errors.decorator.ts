import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorBody } from './error-body.dto';

const MEANINGS: Record<number, string> = {
  400: 'Invalid input; `details` lists every offending field',
  401: 'Missing or unknown bearer token',
  403: 'The resource belongs to another user',
  404: 'Unknown id',
  409: 'Conflicts with the current state',
  413: 'A file or archive is larger than allowed',
  429: 'Over a per-user limit; see the Retry-After header',
  503: 'A dependency (Redis, queue, disk, tracking server) is down',
};

/** Documents the error responses a route can give, all with the ErrorBody shape. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: MEANINGS[status], type: ErrorBody })),
  );
}
