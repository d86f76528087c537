import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { AppConfig, WorkerRegistry } from '@app/adapters';
import { JobProcessor } from './job.processor';
import { Reaper } from './reaper';

const HEARTBEAT_MS = 10_000;

/** Starts consuming once the sandbox passed its self-check; on SIGTERM/SIGINT requeues running jobs and stops. */
@Injectable()
export class WorkerLifecycle implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Worker');
  private readonly id = `${hostname()}:${process.pid}`;
  private readonly startedAt = new Date().toISOString();
  private heartbeat?: NodeJS.Timeout;
  private sandboxDescription = 'unknown';

  constructor(
    private readonly config: AppConfig,
    private readonly processor: JobProcessor,
    private readonly reaper: Reaper,
    private readonly registry: WorkerRegistry,
  ) {}

  /** `sandbox` is what the self-check reported; /healthz shows it through the heartbeat. */
  async start(sandbox: string): Promise<void> {
    this.sandboxDescription = sandbox;
    await this.processor.start();
    this.reaper.start();
    await this.announce();
    this.heartbeat = setInterval(() => void this.announce(), HEARTBEAT_MS);
    this.logger.log(`consuming with ${this.config.workerConcurrency} slot(s); GPUs: ${this.config.workerGpus.join(',') || 'none'}`);
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`${signal ?? 'shutdown'}: stopping; running jobs go back to pending`);
    clearInterval(this.heartbeat);
    this.reaper.stop();
    await this.processor.stop();
    await this.registry.withdraw(this.id).catch(() => undefined);
  }

  private async announce(): Promise<void> {
    await this.registry
      .announce({
        id: this.id,
        sandbox: this.sandboxDescription,
        concurrency: this.config.workerConcurrency,
        gpus: this.config.workerGpus,
        running: this.processor.runningJobs(),
        startedAt: this.startedAt,
      })
      .catch(() => undefined);
  }
}
