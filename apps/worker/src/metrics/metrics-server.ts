import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AppConfig, scrapeTokenMatches } from '@app/adapters';
import { WorkerMetrics } from './worker-metrics';

/**
 * The worker's own /metrics on WORKER_METRICS_PORT (all interfaces, like the API), for the same
 * Prometheus that scrapes the API: a port per worker keeps each worker's counters its own
 * (Prometheus adds the instance), costs nothing while nobody scrapes, and needs nothing from
 * Redis. Only METRICS_TOKEN is taken: a worker knows no users.
 */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: WorkerMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const port = this.config.workerMetricsPort;
    if (port === null) return;
    const server = createServer((request, response) => void this.answer(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(`WORKER_METRICS_PORT ${port}: ${error.code === 'EADDRINUSE' ? 'the port is in use (give each worker on a host its own)' : error.message}`)),
      );
      server.listen(port, () => resolve());
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    this.server = server;
    this.logger.log(`metrics on http://0.0.0.0:${port}/metrics`);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0];
    if (path !== '/metrics') return this.refuse(response, 404, 'this port serves only /metrics');
    if (request.method !== 'GET' && request.method !== 'HEAD') return this.refuse(response, 405, '/metrics takes GET', { Allow: 'GET, HEAD' });
    const header = request.headers.authorization ?? '';
    const token = /^Bearer ([\x21-\x7e]+)$/i.exec(header)?.[1];
    if (!token) return this.refuse(response, 401, '/metrics needs "Authorization: Bearer <METRICS_TOKEN>"', { 'WWW-Authenticate': 'Bearer realm="leadersboard"' });
    if (!scrapeTokenMatches(this.config.metricsToken ?? '', token)) return this.refuse(response, 401, 'that is not the METRICS_TOKEN this worker was given');
    try {
      const text = await this.metrics.registry.metrics();
      response.writeHead(200, { 'Content-Type': this.metrics.registry.contentType, 'Cache-Control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    } catch (error) {
      this.logger.error(`scrape failed: ${(error as Error).message}`);
      this.refuse(response, 500, 'collecting the metrics failed; see the worker log');
    }
  }

  private refuse(response: ServerResponse, statusCode: number, message: string, headers: Record<string, string> = {}): void {
    response.writeHead(statusCode, { 'Content-Type': 'application/json', ...headers });
    response.end(JSON.stringify({ statusCode, message }));
  }
}
