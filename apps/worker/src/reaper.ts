import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@app/adapters';
import { ReapJobs } from '@app/domain';

/** Runs ReapJobs on an interval, so no job stays pending or running forever. */
@Injectable()
export class Reaper {
  private readonly logger = new Logger('Reaper');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    private readonly reapJobs: ReapJobs,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.reaperIntervalSeconds * 1000);
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
  }
}
