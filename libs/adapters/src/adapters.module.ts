import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import {
  BenchmarkCatalogPort,
  CancelSignalPort,
  ClockPort,
  IdPort,
  JobQueuePort,
  JobStatusPort,
  LeaderboardPort,
  LoginThrottlePort,
  RunFilesPort,
  StoragePort,
  TrackingPort,
} from '@app/domain';
import { loadBenchmarkCatalog } from './benchmarks/load-catalog';
import { BullMqJobQueueAdapter } from './bullmq/bullmq-job-queue.adapter';
import { AppConfig } from './config/app-config';
import { FilesystemRunFiles } from './filesystem/filesystem-run-files.adapter';
import { FileSystemStorageAdapter } from './filesystem/filesystem-storage.adapter';
import { MlflowTrackingAdapter } from './mlflow/mlflow-tracking.adapter';
import { RedisCancelSignalAdapter } from './redis/redis-cancel-signal.adapter';
import { createRedisClient } from './redis/redis-client';
import { RedisJobStatusAdapter, retentionSeconds } from './redis/redis-job-status.adapter';
import { RedisLeaderboardAdapter } from './redis/redis-leaderboard.adapter';
import { RedisLoginThrottleAdapter } from './redis/redis-login-throttle.adapter';
import { CryptoIdAdapter } from './system/crypto-id.adapter';
import { SystemClockAdapter } from './system/system-clock.adapter';

/** Closes connections when the app stops, so tests and SIGTERM leave nothing open. */
class ConnectionCloser implements OnApplicationShutdown {
  constructor(
    @Inject(Redis) private readonly redis: Redis,
    @Inject(JobQueuePort) private readonly queue: JobQueuePort,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.queue instanceof BullMqJobQueueAdapter) await this.queue.close();
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    else this.redis.disconnect();
  }
}

/** Binds every domain port to its real adapter, built from the one validated config. */
@Global()
@Module({})
export class AdaptersModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AdaptersModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: Redis, useFactory: () => createRedisClient(config.redisUrl) },
        { provide: JobStatusPort, useFactory: (redis: Redis) => new RedisJobStatusAdapter(redis, config.redisPrefix, retentionSeconds(config.jobRetentionDays)), inject: [Redis] },
        { provide: RunFilesPort, useFactory: () => new FilesystemRunFiles({ artifactRoot: config.artifactRoot, logRoot: config.logRoot }) },
        { provide: LeaderboardPort, useFactory: (redis: Redis) => new RedisLeaderboardAdapter(redis, config.redisPrefix), inject: [Redis] },
        { provide: BenchmarkCatalogPort, useFactory: () => loadBenchmarkCatalog(config) },
        { provide: CancelSignalPort, useFactory: (redis: Redis) => new RedisCancelSignalAdapter(redis, config.redisPrefix), inject: [Redis] },
        {
          provide: LoginThrottlePort,
          useFactory: (redis: Redis) => new RedisLoginThrottleAdapter(redis, config.redisPrefix, config.authThrottle),
          inject: [Redis],
        },
        { provide: JobQueuePort, useFactory: () => new BullMqJobQueueAdapter(config.redisUrl, config.redisPrefix) },
        {
          provide: StoragePort,
          useFactory: () =>
            new FileSystemStorageAdapter({
              uploadRoot: config.uploadRoot,
              logRoot: config.logRoot,
              artifactRoot: config.artifactRoot,
              maxSubmissionBytes: config.maxSubmissionBytes,
              maxConcurrentUnpacks: config.maxConcurrentUnpacks,
              maxArchiveEntries: config.maxArchiveEntries,
            }),
        },
        { provide: TrackingPort, useFactory: () => new MlflowTrackingAdapter({ trackingUri: config.mlflowTrackingUri }) },
        { provide: IdPort, useClass: CryptoIdAdapter },
        { provide: ClockPort, useClass: SystemClockAdapter },
        ConnectionCloser,
      ],
      exports: [AppConfig, Redis, BenchmarkCatalogPort, LeaderboardPort, CancelSignalPort, LoginThrottlePort, JobStatusPort, JobQueuePort, StoragePort, TrackingPort, IdPort, ClockPort, RunFilesPort],
    };
  }
}
