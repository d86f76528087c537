import { DynamicModule, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { AdaptersModule, AppConfig, WorkerRegistry } from '@app/adapters';
import { ClockPort, ExecuteJob, JobQueuePort, JobStatusPort, ReapJobs, SandboxRunnerPort, StoragePort, TrackingPort } from '@app/domain';
import { JobProcessor } from './job.processor';
import { Reaper } from './reaper';
import { createSandboxRunner } from './sandbox.provider';
import { WorkerLifecycle } from './worker.lifecycle';

/** The worker's application context: the shared adapters, the sandbox, and the queue consumer. */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [AdaptersModule.forRoot(config)],
      providers: [
        { provide: SandboxRunnerPort, useFactory: () => createSandboxRunner(config) },
        {
          provide: ExecuteJob,
          useFactory: (status: JobStatusPort, storage: StoragePort, tracking: TrackingPort, sandbox: SandboxRunnerPort, clock: ClockPort) =>
            new ExecuteJob(status, storage, tracking, sandbox, clock, {
              experimentName: config.experimentName,
              limits: {
                small: { timeoutSeconds: config.jobTimeoutSeconds.small, memoryMb: config.jobMemoryMb.small, pidsMax: config.jobPidsMax },
                medium: { timeoutSeconds: config.jobTimeoutSeconds.medium, memoryMb: config.jobMemoryMb.medium, pidsMax: config.jobPidsMax },
              },
            }),
          inject: [JobStatusPort, StoragePort, TrackingPort, SandboxRunnerPort, ClockPort],
        },
        {
          provide: ReapJobs,
          useFactory: (status: JobStatusPort, queue: JobQueuePort, clock: ClockPort) => new ReapJobs(status, queue, clock, config.reaperGraceSeconds * 1000),
          inject: [JobStatusPort, JobQueuePort, ClockPort],
        },
        { provide: WorkerRegistry, useFactory: (redis: Redis) => new WorkerRegistry(redis, config.redisPrefix), inject: [Redis] },
        JobProcessor,
        Reaper,
        WorkerLifecycle,
      ],
    };
  }
}
