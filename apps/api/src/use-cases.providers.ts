import { Provider } from '@nestjs/common';
import { AppConfig } from '@app/adapters';
import { LogFollowHub } from './jobs/log-follow-hub';
import {
  BenchmarkCatalogPort,
  CancelJob,
  CancelSignalPort,
  ClockPort,
  CreateSubmission,
  EnqueueJob,
  FollowJobLog,
  GetJobLogs,
  GetJobMetrics,
  GetJobResults,
  GetJobStatus,
  GetLeaderboard,
  IdPort,
  JobQueuePort,
  JobStatusPort,
  LeaderboardPort,
  ListBenchmarks,
  ListJobs,
  RebuildLeaderboard,
  RerunJob,
  StoragePort,
  TrackingPort,
} from '@app/domain';

/** The domain's use cases are plain classes; Nest builds them from the bound ports. */
export const useCaseProviders: Provider[] = [
  {
    provide: CreateSubmission,
    useFactory: (storage: StoragePort, ids: IdPort, clock: ClockPort, config: AppConfig) =>
      new CreateSubmission(storage, ids, clock, {
        maxFileBytes: config.maxFileBytes,
        maxFiles: config.maxFilesPerSubmission,
        maxSubmissionBytes: config.maxSubmissionBytes,
      }),
    inject: [StoragePort, IdPort, ClockPort, AppConfig],
  },
  {
    provide: EnqueueJob,
    useFactory: (
      storage: StoragePort,
      status: JobStatusPort,
      queue: JobQueuePort,
      ids: IdPort,
      clock: ClockPort,
      catalog: BenchmarkCatalogPort,
      config: AppConfig,
    ) => new EnqueueJob(storage, status, queue, ids, clock, catalog, { limits: config.rateLimit, defaultBenchmark: config.defaultBenchmark }),
    inject: [StoragePort, JobStatusPort, JobQueuePort, IdPort, ClockPort, BenchmarkCatalogPort, AppConfig],
  },
  {
    provide: CancelJob,
    useFactory: (jobs: GetJobStatus, status: JobStatusPort, queue: JobQueuePort, signal: CancelSignalPort) => new CancelJob(jobs, status, queue, signal),
    inject: [GetJobStatus, JobStatusPort, JobQueuePort, CancelSignalPort],
  },
  { provide: GetJobStatus, useFactory: (status: JobStatusPort) => new GetJobStatus(status), inject: [JobStatusPort] },
  { provide: ListJobs, useFactory: (status: JobStatusPort) => new ListJobs(status), inject: [JobStatusPort] },
  {
    provide: GetJobLogs,
    useFactory: (jobs: GetJobStatus, storage: StoragePort) => new GetJobLogs(jobs, storage),
    inject: [GetJobStatus, StoragePort],
  },
  {
    provide: GetJobResults,
    useFactory: (jobs: GetJobStatus, tracking: TrackingPort, config: AppConfig) => new GetJobResults(jobs, tracking, config.mlflowPublicUri),
    inject: [GetJobStatus, TrackingPort, AppConfig],
  },
  {
    provide: RerunJob,
    useFactory: (jobs: GetJobStatus, storage: StoragePort, enqueue: EnqueueJob, ids: IdPort) => new RerunJob(jobs, storage, enqueue, ids),
    inject: [GetJobStatus, StoragePort, EnqueueJob, IdPort],
  },
  {
    provide: GetJobMetrics,
    useFactory: (jobs: GetJobStatus, tracking: TrackingPort) => new GetJobMetrics(jobs, tracking),
    inject: [GetJobStatus, TrackingPort],
  },
  {
    provide: FollowJobLog,
    useFactory: (jobs: GetJobStatus, storage: StoragePort) => new FollowJobLog(jobs, storage),
    inject: [GetJobStatus, StoragePort],
  },
  // One per API process: it shares each job's tailer among that job's followers.
  {
    provide: LogFollowHub,
    useFactory: (storage: StoragePort, status: JobStatusPort) => new LogFollowHub(storage, status),
    inject: [StoragePort, JobStatusPort],
  },
  {
    provide: ListBenchmarks,
    useFactory: (catalog: BenchmarkCatalogPort, board: LeaderboardPort) => new ListBenchmarks(catalog, board),
    inject: [BenchmarkCatalogPort, LeaderboardPort],
  },
  {
    provide: GetLeaderboard,
    useFactory: (catalog: BenchmarkCatalogPort, board: LeaderboardPort) => new GetLeaderboard(catalog, board),
    inject: [BenchmarkCatalogPort, LeaderboardPort],
  },
  {
    provide: RebuildLeaderboard,
    useFactory: (catalog: BenchmarkCatalogPort, status: JobStatusPort, board: LeaderboardPort) => new RebuildLeaderboard(catalog, status, board),
    inject: [BenchmarkCatalogPort, JobStatusPort, LeaderboardPort],
  },
];
