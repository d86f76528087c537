import { Logger } from '@nestjs/common';
import { RootLogger, runWithLogFields } from '@app/adapters';
import { Execution, ExecuteJob, JobStatusPort } from '@app/domain';
import { WorkerMetrics } from './worker-metrics';

/**
 * ExecuteJob, observed: every line logged while a job runs (here, in the adapters, in the
 * sandbox code) carries its `job_id`; each run is timed and counted by outcome, holds a busy
 * slot while it lasts, and a job started from the queue records how long it waited there.
 */
export class ObservedExecuteJob extends ExecuteJob {
  private readonly logger = new Logger('Job');
  private readonly records: JobStatusPort;

  constructor(
    private readonly observer: { metrics: WorkerMetrics; root: RootLogger },
    ...args: ConstructorParameters<typeof ExecuteJob>
  ) {
    super(...args);
    this.records = args[0];
  }

  override execute(...args: Parameters<ExecuteJob['execute']>): Promise<Execution> {
    const { metrics, root } = this.observer;
    return runWithLogFields(root, { job_id: args[0].job_id }, async () => {
      await this.observeWait(args[0].job_id);
      this.logger.log('run started');
      metrics.busySlots.inc();
      const started = process.hrtime.bigint();
      // error: ExecuteJob threw (a bug, or a fault it did not classify); the processor fails the job.
      let outcome = 'error';
      try {
        const execution = await super.execute(...args);
        outcome = outcomeOf(execution);
        if (execution.outcome === 'retry') metrics.platformRetries.inc({ service: execution.service });
        return execution;
      } finally {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.runSeconds.observe({ outcome }, seconds);
        metrics.busySlots.dec();
        this.logger.log(`run ended: ${outcome} after ${seconds.toFixed(1)} s`);
      }
    });
  }

  /** Admitted to now, for a job that is still pending as the worker picks it up (an extra read per job, not per line). */
  private async observeWait(jobId: string): Promise<void> {
    const job = await this.records.get(jobId).catch(() => undefined);
    if (job?.status !== 'pending') return;
    const waited = (Date.now() - Date.parse(job.createdAt)) / 1000;
    if (Number.isFinite(waited)) this.observer.metrics.waitSeconds.observe(Math.max(0, waited));
  }
}

/** The final status for a finished run, else what happened instead (requeue, skipped, retry). */
function outcomeOf(execution: Execution): string {
  return execution.outcome === 'finished' ? execution.job.status : execution.outcome;
}

