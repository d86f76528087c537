import { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import type { DestinationStream } from 'pino';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppConfig, createRootLogger, nestLoggerFor, prepareDirectories, RootLogger } from '@app/adapters';
import { mountBullBoard } from './admin/bull-board';
import { useHeaderChecks } from './auth/header-checks';
import { AppModule } from './app.module';
import { setupSwagger } from './docs/swagger';
import { answerClientErrors } from './errors/client-errors';
import { useMethodNotAllowed } from './errors/method-not-allowed';
import { validationPipe } from './errors/validation';
import { useRequestContext } from './logging/request-context';
import { ApiMetrics } from './metrics/api-metrics';
import { serveWebUi } from './web/web-ui';

export interface ApiAppOptions {
  /** false: log nothing (most tests). */
  logger?: false;
  /** Where the JSON log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
  /** The process's logger, when main.ts made it already. */
  root?: RootLogger;
}

/** Builds the configured API app; main.ts and the e2e tests both start it through here. */
export async function createApiApp(config: AppConfig, options: ApiAppOptions = {}): Promise<INestApplication> {
  await prepareDirectories(config);
  const root = options.root ?? createRootLogger('api', options.logger === false ? { ...config, logLevel: 'silent' } : config, options.logDestination);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    logger: options.logger === false ? false : nestLoggerFor(root),
    bodyParser: false,
  });
  // First of all: every response, refusals by the checks below included, carries its X-Request-Id.
  const metrics = app.get(ApiMetrics);
  useRequestContext(app, root, (request) => metrics.observeRequest(request));
  // Before any body is read: a request with ambiguous credentials gets no further.
  useHeaderChecks(app);
  useMethodNotAllowed(app);
  app.disable('x-powered-by');
  // Job status changes under the client; a weak ETag per response only costs hashing time.
  app.set('etag', false);
  app.useGlobalPipes(validationPipe());
  app.enableShutdownHooks();
  setServerTimeouts(app, config);
  setupSwagger(app);
  mountBullBoard(app);
  serveWebUi(app);
  return app;
}

/**
 * Node's defaults let a client hold a socket for 300 s per request; slow or stalled clients
 * could exhaust file descriptors. Uploads also get an idle timeout (see UploadInterceptor).
 */
function setServerTimeouts(app: INestApplication, config: AppConfig): void {
  const server = app.getHttpServer() as Server;
  const { headers, request, keepAlive } = config.httpTimeoutsSeconds;
  server.headersTimeout = headers * 1000;
  server.requestTimeout = request * 1000;
  server.keepAliveTimeout = keepAlive * 1000;
  answerClientErrors(server);
}
