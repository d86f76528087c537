import { Forbidden, Invalid, NotFound, RateLimited, Unavailable } from '../errors/domain-errors';
import { Caller } from '../model/caller';
import { canonicalJson } from '../model/canonical-json';
import { Job, JsonObject, RESOURCE_CLASSES, ResourceClass, toPayload } from '../model/job';
import { jsonObjectProblem } from '../model/json-limits';
import { JobLimits } from '../model/limits';
import { ClockPort } from '../ports/clock.port';
import { IdPort } from '../ports/id.port';
import { JobQueuePort } from '../ports/job-queue.port';
import { JobStatusPort } from '../ports/job-status.port';
import { StoragePort } from '../ports/storage.port';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { knownIds } from './get-leaderboard';

export interface JobRequest {
  submissionId: string;
  config?: JsonObject;
  resourceClass?: ResourceClass;
  /** undefined: the default benchmark, if one is set; null: a plain experiment ranked nowhere. */
  benchmark?: string | null;
  idempotencyKey?: string;
}

export interface EnqueueSettings {
  limits: JobLimits;
  /** DEFAULT_BENCHMARK: what a job that names none is scored on. */
  defaultBenchmark: string | null;
}

export interface EnqueuedJob {
  job: Job;
  /** False when an identical earlier request already created this job. */
  created: boolean;
}

/** Admits a run of a submission: idempotent per (user, submission, config, class, key), rate limited. */
export class EnqueueJob {
  constructor(
    private readonly storage: StoragePort,
    private readonly status: JobStatusPort,
    private readonly queue: JobQueuePort,
    private readonly ids: IdPort,
    private readonly clock: ClockPort,
    private readonly benchmarks: BenchmarkCatalogPort,
    private readonly settings: EnqueueSettings,
  ) {}

  private get limits(): JobLimits {
    return this.settings.limits;
  }

  async execute(caller: Caller, request: JobRequest): Promise<EnqueuedJob> {
    const resourceClass = request.resourceClass ?? 'small';
    if (!RESOURCE_CLASSES.includes(resourceClass)) {
      throw new Invalid([`resource_class must be one of ${RESOURCE_CLASSES.join(', ')}`]);
    }
    const configProblem = request.config === undefined ? null : jsonObjectProblem('config', request.config);
    if (configProblem) throw new Invalid([configProblem]);
    const benchmark = this.benchmarkOf(request.benchmark);
    const submission = await this.storage.loadMetadata(request.submissionId);
    if (!submission) throw new NotFound(`submission ${request.submissionId} does not exist`);
    if (submission.userId !== caller.userId) {
      throw new Forbidden(`submission ${request.submissionId} belongs to another user`);
    }

    const config = request.config ?? {};
    const jobId = this.ids.derive([
      caller.userId,
      submission.submissionId,
      canonicalJson(config),
      resourceClass,
      request.idempotencyKey ?? '',
      // Appended only when set, so a plain job keeps the id it had before benchmarks existed.
      ...(benchmark ? [benchmark] : []),
    ]);
    const now = this.clock.now();
    const admission = await this.status.create(
      {
        jobId,
        submissionId: submission.submissionId,
        userId: caller.userId,
        entrypoint: submission.entrypoint,
        configFile: submission.configFile,
        config,
        resourceClass,
        benchmark,
        createdAt: new Date(now).toISOString(),
      },
      this.limits,
      now,
    );

    if (admission.outcome === 'existing') return { job: admission.job, created: false };
    if (admission.outcome === 'rate_limited') throw this.limitError(admission.limit, admission.retryAfterSeconds);

    try {
      await this.queue.enqueue(toPayload(admission.job));
    } catch (error) {
      await this.status.remove(jobId);
      throw new Unavailable(`the job could not be queued (${(error as Error).message}); nothing was created, try again`);
    }
    return { job: admission.job, created: true };
  }

  /** The benchmark to score on, null for none; an unknown or broken one is the caller's 400. */
  private benchmarkOf(requested: string | null | undefined): string | null {
    const id = requested === undefined ? this.settings.defaultBenchmark : requested;
    if (id === null) return null;
    if (typeof id !== 'string') throw new Invalid(['benchmark must be a benchmark id (a string) or null']);
    const listing = this.benchmarks.get(id);
    if (!listing) throw new Invalid([`benchmark ${JSON.stringify(id)} does not exist; known benchmarks: ${knownIds(this.benchmarks)}`]);
    if (!listing.available) throw new Invalid([`benchmark ${id} is unavailable: ${listing.problem}`]);
    return id;
  }

  private limitError(limit: 'hourly' | 'concurrent', retryAfterSeconds: number): RateLimited {
    if (limit === 'hourly') {
      return new RateLimited(
        `hourly job limit reached: at most ${this.limits.jobsPerHour} new jobs per rolling hour; retry in ${retryAfterSeconds} s`,
        retryAfterSeconds,
      );
    }
    return new RateLimited(
      `concurrent job limit reached: at most ${this.limits.concurrentJobs} jobs pending or running at once; wait for one to finish or cancel one`,
      retryAfterSeconds,
    );
  }
}
