import { DynamicModule, Module } from '@nestjs/common';
import Redis from 'ioredis';
import { AdaptersModule, AppConfig, createRootLogger, RootLogger, WorkerRegistry } from '@app/adapters';
import {
  BenchmarkCatalogPort,
  ClockPort,
  ExecuteJob,
  JobQueuePort,
  JobStatusPort,
  LeaderboardPort,
  PurgeExpiredRuns,
  Ranking,
  ReapJobs,
  RunFilesPort,
  SandboxRunnerPort,
  ScoreJob,
  ScorerPort,
  StoragePort,
  TrackingPort,
} from '@app/domain';
import { JobProcessor } from './job.processor';
import { MeteredSandboxRunner, MeteredScorer } from './metrics/metered-ports';
import { MetricsServer } from './metrics/metrics-server';
import { ObservedExecuteJob } from './metrics/observed-execute-job';
import { WorkerMetrics } from './metrics/worker-metrics';
import { Reaper } from './reaper';
import { logPlatformRetry } from './platform-retry-log';
import { createSandboxRunner, createScorer } from './sandbox.provider';

/** The scoring side of ExecuteJob, as one injectable. */
export const RANKING = Symbol('Ranking');
import { WorkerLifecycle } from './worker.lifecycle';

/** The worker's application context: the shared adapters, the sandbox, and the queue consumer. */
@Module({})
export class WorkerModule {
  /** `root`: the process's logger (main.ts makes it first, so startup lines are JSON too). */
  static forRoot(config: AppConfig, root: RootLogger = createRootLogger('worker', config)): DynamicModule {
    return {
      module: WorkerModule,
      imports: [AdaptersModule.forRoot(config)],
      providers: [
        { provide: WorkerMetrics, useValue: new WorkerMetrics(config.workerConcurrency) },
        MetricsServer,
        { provide: SandboxRunnerPort, useFactory: (metrics: WorkerMetrics) => new MeteredSandboxRunner(createSandboxRunner(config), metrics), inject: [WorkerMetrics] },
        { provide: ScorerPort, useFactory: (metrics: WorkerMetrics) => new MeteredScorer(createScorer(config), metrics), inject: [WorkerMetrics] },
        {
          provide: RANKING,
          useFactory: (benchmarks: BenchmarkCatalogPort, scorer: ScorerPort, board: LeaderboardPort): Ranking => ({
            benchmarks,
            scoring: new ScoreJob(scorer),
            board,
          }),
          inject: [BenchmarkCatalogPort, ScorerPort, LeaderboardPort],
        },
        {
          provide: ExecuteJob,
          useFactory: (status: JobStatusPort, storage: StoragePort, tracking: TrackingPort, sandbox: SandboxRunnerPort, clock: ClockPort, ranking: Ranking, metrics: WorkerMetrics) =>
            new ObservedExecuteJob({ metrics, root }, status, storage, tracking, sandbox, clock, ranking, {
              experimentName: config.experimentName,
              limits: {
                small: {
                  timeoutSeconds: config.jobTimeoutSeconds.small,
                  memoryMb: config.jobMemoryMb.small,
                  pidsMax: config.jobPidsMax,
                  cpus: config.jobCpus.small,
                  outputMb: config.jobOutputMb.small,
                },
                medium: {
                  timeoutSeconds: config.jobTimeoutSeconds.medium,
                  memoryMb: config.jobMemoryMb.medium,
                  pidsMax: config.jobPidsMax,
                  cpus: config.jobCpus.medium,
                  outputMb: config.jobOutputMb.medium,
                },
              },
              retry: { windowMs: config.infraRetryWindowSeconds * 1000 },
              onRetry: logPlatformRetry,
            }),
          inject: [JobStatusPort, StoragePort, TrackingPort, SandboxRunnerPort, ClockPort, RANKING, WorkerMetrics],
        },
        {
          provide: PurgeExpiredRuns,
          useFactory: (status: JobStatusPort, files: RunFilesPort, clock: ClockPort) =>
            new PurgeExpiredRuns(status, files, clock, config.jobRetentionDays * 24 * 3600 * 1000),
          inject: [JobStatusPort, RunFilesPort, ClockPort],
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
