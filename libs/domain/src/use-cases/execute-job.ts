import { Benchmark } from '../model/benchmark';
import { Finishing, Job, JobPayload } from '../model/job';
import { RESERVED_KEY_PREFIX } from '../model/run-keys';
import { Scores } from '../model/scores';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { LeaderboardPort } from '../ports/leaderboard.port';
import { deepMerge, flattenConfig } from '../model/deep-merge';
import { LimitsByClass } from '../model/run-limits';
import { PlatformRunTags } from '../model/run-keys';
import { ClockPort } from '../ports/clock.port';
import { JobStatusPort } from '../ports/job-status.port';
import { SandboxOutcome, SandboxRequest, SandboxRunnerPort } from '../ports/sandbox-runner.port';
import { RunFiles, StoragePort } from '../ports/storage.port';
import { RunStatus, TrackedRun, TrackingPort } from '../ports/tracking.port';
import { describeFailure } from './describe-failure';
import { DEFAULT_RETRY_POLICY, PlatformFault, PlatformRetry, PlatformService, platformCall, RetryPolicy, retryDelayMs } from './platform-faults';
import { ScoreJob } from './score-job';

export type { PlatformService } from './platform-faults';

/** Why a run was stopped from outside: a user's cancel, or the worker shutting down (requeue). */
export type StopReason = 'cancel' | 'shutdown';

export type Execution =
  | { outcome: 'finished'; job: Job }
  | { outcome: 'requeue' }
  | { outcome: 'skipped'; reason: string }
  /**
   * The platform failed before the code ran: the job is back to pending and goes back to the queue
   * for delayMs without counting an attempt. `since` (epoch ms) and `attempt` go into the job's
   * payload (platform_fault_since, platform_retries) so the next delivery knows how long it has failed.
   */
  | { outcome: 'retry'; service: PlatformService; reason: string; delayMs: number; since: number; attempt: number };

/** What scores a job on its benchmark and ranks it. */
export interface Ranking {
  benchmarks: BenchmarkCatalogPort;
  scoring: ScoreJob;
  board: LeaderboardPort;
}

export interface ExecuteJobSettings {
  experimentName: string;
  limits: LimitsByClass;
  /** How platform faults are retried; DEFAULT_RETRY_POLICY for what is left out. */
  retry?: Partial<RetryPolicy>;
  /** Told of each in-process retry of a finishing write, and of one given up (the worker logs them). */
  onRetry?: (retry: PlatformRetry) => void;
  /** Waits between in-process retries, returning early on shutdown; tests pass one that moves a fake clock. */
  wait?: (milliseconds: number, stop: AbortSignal) => Promise<void>;
}

const LOG_ARTIFACT_BYTES = 50 * 2 ** 20;

/** Thrown inside the finishing writes when the worker shuts down: the marker lets the next delivery finish them. */
class ShutdownWhileFinishing extends Error {}

/**
 * Runs one queued job: its tracking run, the sandboxed code, and a truthful final status.
 *
 * Platform faults (Redis or MLflow down) are never the user's: before the code runs they send the
 * job back to the queue (outcome 'retry') until INFRA_RETRY_WINDOW_S of continuous failure; after
 * it ran, the outcome is kept in the status record (`finishing`) and the writes that publish it are
 * retried in-process until they land, so the code never runs twice.
 */
export class ExecuteJob {
  private readonly policy: RetryPolicy;

  constructor(
    private readonly status: JobStatusPort,
    private readonly storage: StoragePort,
    private readonly tracking: TrackingPort,
    private readonly sandbox: SandboxRunnerPort,
    private readonly clock: ClockPort,
    private readonly ranking: Ranking,
    private readonly settings: ExecuteJobSettings,
  ) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...settings.retry };
  }

  async execute(payload: JobPayload, stop: AbortSignal, gpu?: string): Promise<Execution> {
    try {
      return await this.attempt(payload, stop, gpu);
    } catch (error) {
      if (error instanceof PlatformFault) return this.retryOrGiveUp(payload, error);
      if (error instanceof ShutdownWhileFinishing) return { outcome: 'requeue' };
      throw error;
    }
  }

  private async attempt(payload: JobPayload, stop: AbortSignal, gpu?: string): Promise<Execution> {
    const jobId = payload.job_id;
    const before = await platformCall('Redis', () => this.status.get(jobId));
    if (!before) return { outcome: 'skipped', reason: `job ${jobId} has no status record` };
    // An earlier delivery ran the code and stopped while publishing its outcome: publish it, never re-run.
    if (before.finishing && before.status === 'running') return this.publish(before, before.finishing, this.benchmarkIfAvailable(payload), stop);
    // The run of an earlier delivery that got as far as the code (its worker died) failed; it must be
    // ended before startRun looks for a RUNNING run to reuse.
    if (before.runId) await this.endRunUnlessDown(before.runId, 'FAILED');

    const running = await platformCall('Redis', () => this.status.update(jobId, { status: 'running', startedAt: this.isoNow(), errorMessage: null }));
    if (running.status !== 'running') return { outcome: 'skipped', reason: `job ${jobId} is already ${running.status}` };

    const benchmark = this.benchmarkOf(payload);
    if (typeof benchmark === 'string') return this.finish(jobId, 'failed', benchmark);

    const tags: PlatformRunTags = { user_id: running.userId, submission_id: running.submissionId, job_id: jobId };
    // Idempotent: a RUNNING run an earlier attempt made (whose code never ran) is found by its job_id tag.
    const run = await platformCall('MLflow', () => this.tracking.startRun(this.settings.experimentName, jobId, tags));
    let prepared: { request: SandboxRequest; files: RunFiles };
    try {
      prepared = await this.prepare(payload, run, benchmark, gpu);
    } catch (error) {
      if (error instanceof PlatformFault) throw error;
      await this.endQuietly(run.runId, 'FAILED');
      return this.finish(jobId, 'failed', (error as Error).message);
    }
    // From here the code may run: the record names its run, and its outcome is kept whatever happens.
    const started = await platformCall('Redis', () => this.status.update(jobId, { runId: run.runId, experimentId: run.experimentId }));
    if (started.status !== 'running') {
      await this.endQuietly(run.runId, 'KILLED');
      return { outcome: 'skipped', reason: `job ${jobId} is already ${started.status}` };
    }

    let ending: Ending;
    let scores: Scores | null = null;
    try {
      ending = endingOf(await this.sandbox.run(prepared.request, stop), stop);
    } catch (error) {
      ending = { runStatus: 'FAILED', jobStatus: 'failed', errorMessage: (error as Error).message };
    }
    if (ending.jobStatus === 'completed' && benchmark) {
      const scored = await this.score(benchmark, jobId, prepared.files, stop);
      if ('scores' in scored) scores = scored.scores;
      else ending = scored.ending;
    }
    if (ending.jobStatus === 'pending') return this.putBack(jobId, run.runId);

    const finishing: Finishing = { status: ending.jobStatus, errorMessage: ending.errorMessage, runStatus: ending.runStatus, scores, finishedAt: this.isoNow() };
    // The outcome goes into the record first; without Redis there is nowhere else to keep it, so wait for it.
    const marked = await this.land(jobId, 'Redis', 'keep the outcome', () => this.status.update(jobId, { finishing }), undefined);
    return this.publish(marked!, finishing, benchmark, stop);
  }

  /** The job's benchmark, undefined for a plain experiment, or why it cannot run here. */
  private benchmarkOf(payload: JobPayload): Benchmark | undefined | string {
    if (!payload.benchmark) return undefined;
    const listing = this.ranking.benchmarks.get(payload.benchmark);
    if (!listing) return `benchmark ${payload.benchmark} is not configured on this worker`;
    if (!listing.available) return `benchmark ${payload.benchmark} is unavailable: ${listing.problem}`;
    return listing.benchmark;
  }

  private benchmarkIfAvailable(payload: JobPayload): Benchmark | undefined {
    const benchmark = this.benchmarkOf(payload);
    return typeof benchmark === 'string' ? undefined : benchmark;
  }

  /** The effective config, its params on the run, and the run's folders; nothing of the user's runs yet. */
  private async prepare(
    payload: JobPayload,
    run: TrackedRun,
    benchmark: Benchmark | undefined,
    gpu?: string,
  ): Promise<{ request: SandboxRequest; files: RunFiles }> {
    const base = payload.config_file ? await this.storage.loadSubmissionConfig(payload.submission_id, payload.config_file) : {};
    const effective = deepMerge(base, payload.config);
    // Params are a convenience for people browsing MLflow: a refusal is not fatal, an outage is retried.
    await platformCall('MLflow', () => this.tracking.logParams(run.runId, flattenConfig(effective))).catch((error: unknown) => {
      if (error instanceof PlatformFault) throw error;
    });
    const files = await this.storage.prepareRun(payload.job_id, effective);
    const request: SandboxRequest = {
      jobId: payload.job_id,
      submissionDir: await this.storage.load(payload.submission_id),
      outputDir: files.outputDir,
      entrypoint: payload.entrypoint,
      configPath: files.configPath,
      logPath: files.logPath,
      env: { MLFLOW_RUN_ID: run.runId, MLFLOW_EXPERIMENT_ID: run.experimentId },
      limits: this.settings.limits[payload.resource_class],
      gpu,
      dataDir: benchmark?.publicDir,
    };
    return { request, files };
  }

  /** Scores a job whose code succeeded. */
  private async score(benchmark: Benchmark, jobId: string, files: RunFiles, stop: AbortSignal): Promise<{ scores: Scores } | { ending: Ending }> {
    const scoring = await this.ranking.scoring.execute(benchmark, { jobId, outputDir: files.outputDir, scorerLogPath: files.scorerLogPath }, stop);
    if (scoring.kind === 'aborted') return { ending: endingOf({ kind: 'aborted' }, stop) };
    if (scoring.kind === 'failed') return { ending: { runStatus: 'FAILED', jobStatus: 'failed', errorMessage: scoring.message } };
    return { scores: scoring.scores };
  }

  /**
   * Publishes the outcome of a run whose code ran: the log, the scores' copy and the final status on
   * the run (retried until INFRA_RETRY_WINDOW_S after the code finished, then given up: the record is
   * the official copy), then the board and the record (retried until Redis answers).
   */
  private async publish(job: Job, finishing: Finishing, benchmark: Benchmark | undefined, stop: AbortSignal): Promise<Execution> {
    const jobId = job.jobId;
    const runId = job.runId;
    if (runId) {
      const deadline = Date.parse(finishing.finishedAt) + this.policy.windowMs;
      const timestamp = this.clock.now();
      const points = Object.entries(finishing.scores ?? {}).map(([key, value]) => ({ key: `${RESERVED_KEY_PREFIX}${key}`, value, timestamp, step: 0 }));
      // Independent round trips: do them together.
      await Promise.all([
        this.uploadLog(jobId, runId, stop, deadline),
        // The board and the job record are the official copy; the run's copy is for people browsing MLflow.
        points.length > 0 ? this.landOnRun(jobId, 'copy the scores', () => this.tracking.logMetrics(runId, points), stop, deadline) : undefined,
        this.landOnRun(jobId, 'end the run', () => this.tracking.endRun(runId, finishing.runStatus), stop, deadline),
      ]);
    }
    if (benchmark && finishing.scores && finishing.status === 'completed') {
      // A job cancelled while its outcome was being published is not ranked.
      const current = await this.land(jobId, 'Redis', 'read the record', () => this.status.get(jobId), stop);
      if (current?.status === 'running') {
        await this.land(jobId, 'Redis', 'rank the job', () => this.rank(benchmark, current, finishing), stop);
      }
    }
    const job2 = await this.land(
      jobId,
      'Redis',
      'record the outcome',
      () =>
        this.status.update(jobId, {
          status: finishing.status,
          errorMessage: finishing.errorMessage,
          finishedAt: finishing.finishedAt,
          finishing: null,
          ...(finishing.scores ? { scores: finishing.scores } : {}),
        }),
      stop,
    );
    return { outcome: 'finished', job: job2! };
  }

  private async rank(benchmark: Benchmark, job: Job, finishing: Finishing): Promise<void> {
    const scores = finishing.scores!;
    await this.ranking.board.record(
      {
        benchmarkId: benchmark.id,
        jobId: job.jobId,
        userId: job.userId,
        submissionId: job.submissionId,
        score: scores[benchmark.metric],
        scores,
        finishedAt: finishing.finishedAt,
        runId: job.runId,
        experimentId: job.experimentId,
      },
      benchmark.order,
    );
  }

  /** The log is worth keeping with the run; an outage is retried like the other finishing writes. */
  private async uploadLog(jobId: string, runId: string, stop: AbortSignal, deadline: number): Promise<void> {
    const log = await this.storage.loadLogs(jobId, 0, LOG_ARTIFACT_BYTES).catch(() => undefined);
    if (!log) return;
    const content = new TextEncoder().encode(log.text);
    await this.landOnRun(jobId, 'upload the log', () => this.tracking.logArtifact(runId, 'logs/job.log', content), stop, deadline);
  }

  /** A write to the run: retried through outages until `deadline`; a refusal (e.g. a deleted run) is not fatal. */
  private async landOnRun(jobId: string, step: string, call: () => Promise<void>, stop: AbortSignal, deadline: number): Promise<void> {
    await this.land(jobId, 'MLflow', step, call, stop, deadline).catch((error: unknown) => {
      if (error instanceof ShutdownWhileFinishing) throw error;
    });
  }

  /**
   * Retries `call` through outages of `service` with backoff. Gives up (undefined) once `deadline` has
   * passed; with a `stop` signal, a shutdown ends the wait (ShutdownWhileFinishing); without one it waits on.
   */
  private async land<T>(jobId: string, service: PlatformService, step: string, call: () => Promise<T>, stop?: AbortSignal, deadline = Infinity): Promise<T | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await platformCall(service, call);
      } catch (error) {
        if (!(error instanceof PlatformFault)) throw error;
        if (this.clock.now() >= deadline) {
          this.settings.onRetry?.({ jobId, service, step, attempt, delayMs: 0, reason: error.message, gaveUp: true });
          return undefined;
        }
        if (stop && isShutdown(stop)) throw new ShutdownWhileFinishing();
        const delayMs = retryDelayMs(this.policy, attempt - 1);
        this.settings.onRetry?.({ jobId, service, step, attempt, delayMs, reason: error.message });
        await (this.settings.wait ?? pause)(delayMs, stop ?? new AbortController().signal);
      }
    }
  }

  /**
   * Before the code ran: back to pending and to the queue with backoff, or, after the retry window
   * of continuous failure, failed with a message naming the service and for how long it was down.
   */
  private async retryOrGiveUp(payload: JobPayload, fault: PlatformFault): Promise<Execution> {
    const jobId = payload.job_id;
    const now = this.clock.now();
    const since = payload.platform_fault_since ?? now;
    if (now - since >= this.policy.windowMs) {
      const seconds = Math.round((now - since) / 1000);
      const message = `${fault.service} was unavailable for ${seconds} s (last error: ${fault.message}); the job's code never ran`;
      try {
        return await this.finish(jobId, 'failed', message);
      } catch (error) {
        // Redis is the one down: the failure cannot be recorded yet, so the job waits in the queue for it.
        if (!(error instanceof PlatformFault)) throw error;
      }
    }
    // When Redis is the one down this does nothing: the record then says running until the next delivery.
    await this.status.update(jobId, { status: 'pending', startedAt: null }).catch(() => undefined);
    const retries = payload.platform_retries ?? 0;
    return { outcome: 'retry', service: fault.service, reason: fault.message, delayMs: retryDelayMs(this.policy, retries), since, attempt: retries + 1 };
  }

  /** Shutdown: the run is KILLED and the job goes back to pending for another worker to run again. */
  private async putBack(jobId: string, runId: string): Promise<Execution> {
    const [ended] = await Promise.all([
      this.tracking.endRun(runId, 'KILLED').then(
        () => true,
        () => false,
      ),
      this.uploadLogQuietly(jobId, runId),
    ]);
    // A run that could not be ended stays named in the record, so the next delivery ends it instead of reusing it.
    await this.status
      .update(jobId, { status: 'pending', startedAt: null, runId: ended ? null : runId, experimentId: ended ? null : undefined })
      .catch(() => undefined);
    return { outcome: 'requeue' };
  }

  private async uploadLogQuietly(jobId: string, runId: string): Promise<void> {
    const log = await this.storage.loadLogs(jobId, 0, LOG_ARTIFACT_BYTES).catch(() => undefined);
    if (log) await this.tracking.logArtifact(runId, 'logs/job.log', new TextEncoder().encode(log.text)).catch(() => undefined);
  }

  /** Ends a run; an outage is a PlatformFault (retry later), any other refusal is ignored. */
  private async endRunUnlessDown(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    await platformCall('MLflow', () => this.tracking.endRun(runId, status)).catch((error: unknown) => {
      if (error instanceof PlatformFault) throw error;
    });
  }

  private async endQuietly(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    await this.tracking.endRun(runId, status).catch(() => undefined);
  }

  private async finish(jobId: string, status: 'completed' | 'failed' | 'cancelled', errorMessage: string | null): Promise<{ outcome: 'finished'; job: Job }> {
    const job = await platformCall('Redis', () => this.status.update(jobId, { status, errorMessage, finishedAt: this.isoNow() }));
    return { outcome: 'finished', job };
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

interface Ending {
  runStatus: Exclude<RunStatus, 'RUNNING'>;
  jobStatus: 'pending' | 'completed' | 'failed' | 'cancelled';
  errorMessage: string | null;
}

/** Shutdown puts the job back to pending; a cancel ends it cancelled; the rest is what the run did. */
function endingOf(outcome: SandboxOutcome, stop: AbortSignal): Ending {
  if (outcome.kind === 'aborted' && stop.reason === 'shutdown') return { runStatus: 'KILLED', jobStatus: 'pending', errorMessage: null };
  if (outcome.kind === 'aborted') return { runStatus: 'KILLED', jobStatus: 'cancelled', errorMessage: 'cancelled while running' };
  if (outcome.kind === 'succeeded') return { runStatus: 'FINISHED', jobStatus: 'completed', errorMessage: null };
  return { runStatus: 'FAILED', jobStatus: 'failed', errorMessage: describeFailure(outcome) };
}

function isShutdown(stop: AbortSignal): boolean {
  return stop.aborted && stop.reason === 'shutdown';
}

/** Waits `milliseconds`, or less if the worker shuts down meanwhile. */
function pause(milliseconds: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, milliseconds);
    stop.addEventListener('abort', done);
  });
}
