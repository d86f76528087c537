import { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { LogFields, LogScope, RootLogger } from '@app/adapters';
import { REQUEST_ID_HEADER, requestIdFrom } from './request-id';
import { routeOf } from './route-label';

/** A job's routes carry its id in every line they log. */
const JOB_PATH = /^\/jobs\/([A-Za-z0-9_-]{1,128})(?:\/|$)/;

/** What is known about a request once its response is done, for metrics. */
export interface FinishedRequest {
  method: string;
  route: string;
  status: number;
  seconds: number;
}

/**
 * The first middleware of the API, so every response, errors from the other middlewares
 * included, gets its `X-Request-Id`, and every line logged while serving it carries
 * `request_id` (and `job_id` on /jobs/{id}/...), and `user` once the LoginGate admitted one.
 * One line per request when it ends; `onFinished` feeds the HTTP metrics.
 */
export function useRequestContext(app: INestApplication, root: RootLogger, onFinished: (request: FinishedRequest) => void): void {
  app.use((request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(request.headers['x-request-id']);
    response.setHeader(REQUEST_ID_HEADER, requestId);
    const fields: LogFields = { request_id: requestId };
    const path = request.path;
    const jobId = JOB_PATH.exec(path)?.[1];
    if (jobId) fields.job_id = jobId;
    const scope = new LogScope(root, fields);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeOf(request, path);
      // 'close' before 'finish': the client went away before the whole answer was sent.
      const status = response.writableFinished ? response.statusCode : 499;
      onFinished({ method: request.method, route, status, seconds });
      const line = { method: request.method, route, path, status, duration_ms: Math.round(seconds * 1e4) / 10 };
      const message = `${request.method} ${path} ${status}`;
      if (status >= 500) scope.logger().error(line, message);
      else scope.logger().info(line, message);
    };
    response.once('finish', finish);
    response.once('close', finish);
    scope.run(next);
  });
}
