import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, Job as QueueJob, Worker } from 'bullmq';
import Redis from 'ioredis';
import { AppConfig, bullPrefix, JOB_QUEUE_NAME } from '@app/adapters';
import { CancelSignalPort, ExecuteJob, Execution, isFinal, JobPayload, JobStatusPort } from '@app/domain';
import { GpuSlots } from './gpu-slots';
import { RepeatFilter } from './platform-retry-log';

const CANCEL_POLL_MS = 2000;

/**
 * Consumes the job queue. Each run gets an AbortController: a cancel broadcast or a final status
 * seen on the poll aborts it with 'cancel'; worker shutdown aborts every run with 'shutdown'.
 */
@Injectable()
export class JobProcessor {
  private readonly logger = new Logger('JobProcessor');
  private readonly running = new Map<string, AbortController>();
  private readonly slots: GpuSlots;
  private worker?: Worker<JobPayload>;
  private connection?: Redis;
  private unsubscribe?: () => Promise<void>;
  private poller?: NodeJS.Timeout;
  private stopping = false;
  private readonly queueErrors = new RepeatFilter();

  constructor(
    private readonly config: AppConfig,
    private readonly executeJob: ExecuteJob,
    private readonly cancelSignal: CancelSignalPort,
    private readonly status: JobStatusPort,
  ) {
    this.slots = new GpuSlots(config.workerGpus);
  }

  runningJobs(): string[] {
    return [...this.running.keys()];
  }

  async start(): Promise<void> {
    await this.watchCancels();
    // BullMQ workers need unlimited retries per request: a blocking fetch must survive a Redis restart.
    this.connection = new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    this.connection.on('error', () => undefined);
    this.worker = new Worker<JobPayload>(JOB_QUEUE_NAME, (job, token) => this.handle(job, token), {
      connection: this.connection,
      prefix: bullPrefix(this.config.redisPrefix),
      concurrency: this.config.workerConcurrency,
      lockDuration: this.config.jobStallSeconds * 1000,
      stalledInterval: this.config.jobStallSeconds * 1000,
      maxStalledCount: 1,
    });
    this.worker.on('error', (error) => {
      const line = this.queueErrors.pass(`queue connection: ${error.message}`);
      if (line) this.logger.warn(line);
    });
  }

  /** Cancels reach a run by broadcast, and by a poll of the statuses in case a broadcast was missed. */
  async watchCancels(): Promise<void> {
    this.unsubscribe = await this.cancelSignal.subscribe((jobId) => this.running.get(jobId)?.abort('cancel'));
    this.poller = setInterval(() => void this.abortCancelled(), CANCEL_POLL_MS);
  }

  /** Stops taking jobs, kills running ones and puts them back to pending, then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.poller);
    const closing = this.worker?.close();
    for (const controller of this.running.values()) controller.abort('shutdown');
    await closing;
    await this.unsubscribe?.();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }

  /** Runs one delivered job; BullMQ calls this for each job it hands to this worker. */
  async handle(job: DeliveredJob, token?: string): Promise<string> {
    const jobId = job.data.job_id;
    // A job delivered while the worker stops goes straight back, untouched.
    if (this.stopping) await requeue(job, token);
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const gpu = this.slots.take();
    try {
      const execution = await this.executeJob.execute(job.data, controller.signal, gpu);
      if (execution.outcome === 'requeue') await requeue(job, token);
      if (execution.outcome === 'retry') await this.retryLater(job, token, execution);
      if (execution.outcome === 'skipped') this.logger.log(`skipped ${jobId}: ${execution.reason}`);
      return execution.outcome === 'finished' ? execution.job.status : execution.outcome;
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      this.logger.error(`job ${jobId} failed inside the worker: ${(error as Error).stack}`);
      await this.status
        .update(jobId, { status: 'failed', errorMessage: `worker error: ${(error as Error).message}`, finishedAt: new Date().toISOString() })
        .catch(() => undefined);
      throw error;
    } finally {
      this.slots.give(gpu);
      this.running.delete(jobId);
    }
  }

  /**
   * A platform fault before the code ran: the job waits in the delayed set (no attempt counted) with
   * the time its faults began in its payload, so the next delivery knows how long it has been failing.
   * The queue connection retries without limit, so with Redis down this waits for Redis to return.
   */
  private async retryLater(job: DeliveredJob, token: string | undefined, retry: Extract<Execution, { outcome: 'retry' }>): Promise<never> {
    const jobId = job.data.job_id;
    const failingFor = Math.round((Date.now() - retry.since) / 1000);
    this.logger.warn(
      `job ${jobId}: ${retry.service} unavailable (${retry.reason}); retry ${retry.attempt} in ${retry.delayMs} ms, failing for ${failingFor} s; the job's code has not run`,
    );
    try {
      await job.updateData({ ...job.data, platform_fault_since: retry.since, platform_retries: retry.attempt });
      await job.moveToDelayed(Date.now() + retry.delayMs, token);
    } catch (error) {
      // E.g. the lock expired during a long Redis outage. Still not the job's fault: leaving the job
      // to BullMQ's stall check hands it out again, where failing it here would blame the user.
      this.logger.warn(`job ${jobId}: could not put it back in the queue (${(error as Error).message}); the stall check will hand it out again`);
    }
    throw new DelayedError();
  }

  /** The safety net under the broadcast: a run whose status turned final elsewhere is stopped. */
  private async abortCancelled(): Promise<void> {
    for (const [jobId, controller] of this.running) {
      const job = await this.status.get(jobId).catch(() => undefined);
      if (job && isFinal(job.status)) controller.abort('cancel');
    }
  }
}

/** What the processor uses of a BullMQ job. */
export type DeliveredJob = Pick<QueueJob<JobPayload>, 'data' | 'moveToDelayed' | 'updateData'>;

/** Back to the queue without counting an attempt: the job was not at fault. */
async function requeue(job: DeliveredJob, token?: string): Promise<never> {
  // A fresh start: platform faults of an earlier delivery no longer count against the retry window.
  if (job.data.platform_fault_since !== undefined) {
    const data = { ...job.data };
    delete data.platform_fault_since;
    delete data.platform_retries;
    await job.updateData(data);
  }
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError();
}
