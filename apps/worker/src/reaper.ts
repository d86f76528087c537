import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/adapters';
import { PurgeExpiredRuns, ReapJobs } from '@app/domain';

/** How often the retention sweep walks the artifact and log roots: files expire in days, not seconds. */
export const RETENTION_SWEEP_MS = 3600 * 1000;

/**
 * Runs ReapJobs on an interval, so no job stays pending or running forever; and, at start and
 * then hourly, PurgeExpiredRuns: the host files of jobs whose record expired (JOB_RETENTION_DAYS).
 */
@Injectable()
export class Reaper {
  private readonly logger = new Logger('Reaper');
  private timer?: NodeJS.Timeout;
  private lastSweep?: number;
  private sweeping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly reapJobs: ReapJobs,
    private readonly purgeExpiredRuns: PurgeExpiredRuns,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.reaperIntervalSeconds * 1000);
    void this.sweepExpired();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async runOnce(): Promise<void> {
    try {
      const report = await this.reapJobs.execute();
      if (report.requeued.length > 0) this.logger.warn(`re-queued jobs the queue had lost: ${report.requeued.join(', ')}`);
      if (report.failed.length > 0) this.logger.warn(`failed jobs whose worker was lost: ${report.failed.join(', ')}`);
    } catch (error) {
      this.logger.warn(`reaper pass skipped: ${(error as Error).message}`);
    }
    if (this.lastSweep === undefined || Date.now() - this.lastSweep >= RETENTION_SWEEP_MS) await this.sweepExpired();
  }

  /** One retention pass; a failed one (Redis unreachable) is retried on the next reaper pass. */
  async sweepExpired(): Promise<string[]> {
    if (this.sweeping) return [];
    this.sweeping = true;
    try {
      const removed = await this.purgeExpiredRuns.execute();
      this.lastSweep = Date.now();
      if (removed.length > 0) this.logger.log(`removed the host files of ${removed.length} job(s) whose record expired: ${removed.join(', ')}`);
      return removed;
    } catch (error) {
      this.logger.warn(`retention sweep skipped, nothing removed: ${(error as Error).message}`);
      return [];
    } finally {
      this.sweeping = false;
    }
  }
}
