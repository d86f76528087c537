import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { BullMqJobQueueAdapter, createMetricsRegistry, METRIC_PREFIX } from '@app/adapters';
import { JobQueuePort, JobStatusPort } from '@app/domain';
import { FinishedRequest } from '../logging/request-context';

/** BullMQ's own states, as getJobCounts names them. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/** Seconds; the API answers most routes in milliseconds, uploads and log follows in seconds or minutes. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The API's metrics. HTTP ones are counted as requests end; job and queue gauges are read from
 * Redis when scraped: the unfinished set (pending and running jobs, bounded by the users'
 * concurrent limits) and BullMQ's per-state counters, both O(1) or small per scrape. Final states
 * are not counted here (that would need a scan of every job kept 90 days): workers count them as
 * `leaderboard_job_run_duration_seconds_count` by outcome.
 */
@Injectable()
export class ApiMetrics {
  readonly registry: Registry = createMetricsRegistry();
  private readonly logger = new Logger('Metrics');
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly durations: Histogram<'method' | 'route' | 'status'>;

  constructor(jobs: JobStatusPort, queue: JobQueuePort) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: `${METRIC_PREFIX}http_requests_total`,
      help: 'HTTP requests answered, by method, route template and status (499: the client left first)',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.durations = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'Time from the request arriving to its response ending, by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: HTTP_BUCKETS,
      registers,
    });
    const logger = this.logger;
    new Gauge({
      name: `${METRIC_PREFIX}jobs`,
      help: 'Jobs not yet final, by state (pending, running), read from Redis at scrape time',
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        try {
          const unfinished = await jobs.listUnfinished();
          this.set({ state: 'pending' }, unfinished.filter((job) => job.status === 'pending').length);
          this.set({ state: 'running' }, unfinished.filter((job) => job.status === 'running').length);
        } catch (error) {
          logger.warn(`jobs by state left out of this scrape: ${(error as Error).message}`);
        }
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}queue_jobs`,
      help: "Jobs in the BullMQ queue by the queue's state (waiting: queue depth; delayed: put back for a retry)",
      labelNames: ['state'],
      registers,
      async collect() {
        this.reset();
        if (!(queue instanceof BullMqJobQueueAdapter)) return;
        try {
          const counts = await queue.queue.getJobCounts(...QUEUE_STATES);
          for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
        } catch (error) {
          logger.warn(`queue depth left out of this scrape: ${(error as Error).message}`);
        }
      },
    });
  }

  observeRequest({ method, route, status, seconds }: FinishedRequest): void {
    const labels = { method, route, status: String(status) };
    this.requests.inc(labels);
    this.durations.observe(labels, seconds);
  }
}
