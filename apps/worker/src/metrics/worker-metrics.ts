import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { createMetricsRegistry, METRIC_PREFIX } from '@app/adapters';

/** Seconds: a job waits from moments (an idle worker) to hours (a long queue). */
const WAIT_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600, 4 * 3600];
/** Seconds: runs last from a second (a failing import) to the medium class's timeout. */
const RUN_BUCKETS = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];

/** One worker's metrics, served on WORKER_METRICS_PORT; every instrument is recorded by a metered port or use case. */
export class WorkerMetrics {
  readonly registry: Registry = createMetricsRegistry();
  readonly waitSeconds: Histogram;
  readonly runSeconds: Histogram<'outcome'>;
  readonly busySlots: Gauge;
  readonly sandboxFailures: Counter<'kind'>;
  readonly scorerFailures: Counter<'kind'>;
  readonly platformRetries: Counter<'service'>;

  constructor(slots: number) {
    const registers = [this.registry];
    this.waitSeconds = new Histogram({
      name: `${METRIC_PREFIX}job_wait_seconds`,
      help: 'Time from a job being admitted (POST /jobs) to a worker starting it',
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.runSeconds = new Histogram({
      name: `${METRIC_PREFIX}job_run_duration_seconds`,
      help: 'Time a worker spent on one delivery of a job, by outcome: the final status, requeue (worker stopping), retry (a platform fault), skipped, error (a worker bug)',
      labelNames: ['outcome'],
      buckets: RUN_BUCKETS,
      registers,
    });
    new Gauge({
      name: `${METRIC_PREFIX}worker_slots`,
      help: 'Jobs this worker can run at once (WORKER_CONCURRENCY)',
      registers,
    }).set(slots);
    this.busySlots = new Gauge({
      name: `${METRIC_PREFIX}worker_busy_slots`,
      help: 'Jobs this worker is running now',
      registers,
    });
    this.sandboxFailures = new Counter({
      name: `${METRIC_PREFIX}sandbox_failures_total`,
      help: "Runs the sandbox itself failed (kind sandbox_error: it could not start or watch the code; kind exception: the runner threw), never the user code's own failures",
      labelNames: ['kind'],
      registers,
    });
    this.scorerFailures = new Counter({
      name: `${METRIC_PREFIX}scorer_failures_total`,
      help: "Scorings that did not produce scores, by how the benchmark's scorer ended (exit_code, timeout, out_of_memory, sandbox_error, exception...)",
      labelNames: ['kind'],
      registers,
    });
    this.platformRetries = new Counter({
      name: `${METRIC_PREFIX}platform_fault_retries_total`,
      help: 'Jobs put back to pending because a service of the platform was unreachable, by service (Redis, MLflow)',
      labelNames: ['service'],
      registers,
    });
    // Zeros from the start, so rate() and the dashboard see the series before the first event.
    for (const outcome of ['completed', 'failed', 'cancelled'] as const) this.runSeconds.zero({ outcome });
    this.sandboxFailures.inc({ kind: 'sandbox_error' }, 0);
    for (const service of ['Redis', 'MLflow']) this.platformRetries.inc({ service }, 0);
  }
}
