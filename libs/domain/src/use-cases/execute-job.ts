import { Benchmark } from '../model/benchmark';
import { Job, JobPayload } from '../model/job';
import { RESERVED_KEY_PREFIX } from '../model/run-keys';
import { Scores } from '../model/scores';
import { BenchmarkCatalogPort } from '../ports/benchmark-catalog.port';
import { LeaderboardPort } from '../ports/leaderboard.port';
import { deepMerge, flattenConfig } from '../model/deep-merge';
import { LimitsByClass } from '../model/run-limits';
import { PlatformRunTags } from '../model/run-keys';
import { ClockPort } from '../ports/clock.port';
import { JobStatusPort } from '../ports/job-status.port';
import { SandboxOutcome, SandboxRunnerPort } from '../ports/sandbox-runner.port';
import { RunFiles, StoragePort } from '../ports/storage.port';
import { RunStatus, TrackedRun, TrackingPort } from '../ports/tracking.port';
import { describeFailure } from './describe-failure';
import { ScoreJob } from './score-job';

/** Why a run was stopped from outside: a user's cancel, or the worker shutting down (requeue). */
export type StopReason = 'cancel' | 'shutdown';

/** A platform service whose outage is the platform's fault, never the user's. */
export type PlatformService = 'Redis' | 'MLflow';

export type Execution =
  | { outcome: 'finished'; job: Job }
  | { outcome: 'requeue' }
  | { outcome: 'skipped'; reason: string }
  // The platform failed: the job goes back to pending/delayed for delayMs without counting an attempt.
  | { outcome: 'retry'; service: PlatformService; reason: string; delayMs: number };

/** What scores a job on its benchmark and ranks it. */
export interface Ranking {
  benchmarks: BenchmarkCatalogPort;
  scoring: ScoreJob;
  board: LeaderboardPort;
}

export interface ExecuteJobSettings {
  experimentName: string;
  limits: LimitsByClass;
}

const LOG_ARTIFACT_BYTES = 50 * 2 ** 20;

/** Runs one queued job: its tracking run, the sandboxed code, and a truthful final status. */
export class ExecuteJob {
  constructor(
    private readonly status: JobStatusPort,
    private readonly storage: StoragePort,
    private readonly tracking: TrackingPort,
    private readonly sandbox: SandboxRunnerPort,
    private readonly clock: ClockPort,
    private readonly ranking: Ranking,
    private readonly settings: ExecuteJobSettings,
  ) {}

  async execute(payload: JobPayload, stop: AbortSignal, gpu?: string): Promise<Execution> {
    const jobId = payload.job_id;
    const before = await this.status.get(jobId);
    if (!before) return { outcome: 'skipped', reason: `job ${jobId} has no status record` };
    if (before.runId) await this.endQuietly(before.runId, 'FAILED');

    const running = await this.status.update(jobId, { status: 'running', startedAt: this.isoNow(), errorMessage: null });
    if (running.status !== 'running') return { outcome: 'skipped', reason: `job ${jobId} is already ${running.status}` };

    const benchmark = this.benchmarkOf(payload);
    if (typeof benchmark === 'string') return this.finish(jobId, 'failed', benchmark);

    let run: TrackedRun;
    try {
      const tags: PlatformRunTags = { user_id: running.userId, submission_id: running.submissionId, job_id: jobId };
      run = await this.tracking.startRun(this.settings.experimentName, jobId, tags);
    } catch (error) {
      return this.finish(jobId, 'failed', `tracking server unavailable: ${(error as Error).message}`);
    }
    await this.status.update(jobId, { runId: run.runId, experimentId: run.experimentId });

    let outcome: SandboxOutcome;
    let files: RunFiles;
    try {
      ({ outcome, files } = await this.runSandboxed(payload, run, stop, benchmark, gpu));
    } catch (error) {
      await this.endQuietly(run.runId, 'FAILED');
      return this.finish(jobId, 'failed', (error as Error).message);
    }
    let ending = endingOf(outcome, stop);
    let scores: Scores | null = null;
    if (ending.jobStatus === 'completed' && benchmark) {
      const scored = await this.score(benchmark, jobId, run.runId, files, stop);
      if ('scores' in scored) scores = scored.scores;
      else ending = scored.ending;
    }
    // The log upload and the run's final status are independent round trips: do them together.
    await Promise.all([this.uploadLog(jobId, run.runId), this.endQuietly(run.runId, ending.runStatus)]);
    if (ending.jobStatus === 'pending') {
      await this.status.update(jobId, { status: 'pending', startedAt: null, runId: null, experimentId: null });
      return { outcome: 'requeue' };
    }
    const finished = await this.finish(jobId, ending.jobStatus, ending.errorMessage, scores);
    if (benchmark && scores && finished.job.status === 'completed') await this.rank(benchmark, finished.job, scores);
    return finished;
  }

  /** The job's benchmark, undefined for a plain experiment, or why it cannot run here. */
  private benchmarkOf(payload: JobPayload): Benchmark | undefined | string {
    if (!payload.benchmark) return undefined;
    const listing = this.ranking.benchmarks.get(payload.benchmark);
    if (!listing) return `benchmark ${payload.benchmark} is not configured on this worker`;
    if (!listing.available) return `benchmark ${payload.benchmark} is unavailable: ${listing.problem}`;
    return listing.benchmark;
  }

  /** Scores a job whose code succeeded; official scores go to its run under the reserved prefix. */
  private async score(benchmark: Benchmark, jobId: string, runId: string, files: RunFiles, stop: AbortSignal): Promise<{ scores: Scores } | { ending: Ending }> {
    const scoring = await this.ranking.scoring.execute(benchmark, { jobId, outputDir: files.outputDir, scorerLogPath: files.scorerLogPath }, stop);
    if (scoring.kind === 'aborted') return { ending: endingOf({ kind: 'aborted' }, stop) };
    if (scoring.kind === 'failed') return { ending: { runStatus: 'FAILED', jobStatus: 'failed', errorMessage: scoring.message } };
    const timestamp = this.clock.now();
    const points = Object.entries(scoring.scores).map(([key, value]) => ({ key: `${RESERVED_KEY_PREFIX}${key}`, value, timestamp, step: 0 }));
    // The board and the job record are the official copy; the run's copy is for people browsing MLflow.
    await this.tracking.logMetrics(runId, points).catch(() => undefined);
    return { scores: scoring.scores };
  }

  private async rank(benchmark: Benchmark, job: Job, scores: Scores): Promise<void> {
    await this.ranking.board.record(
      {
        benchmarkId: benchmark.id,
        jobId: job.jobId,
        userId: job.userId,
        submissionId: job.submissionId,
        score: scores[benchmark.metric],
        scores,
        finishedAt: job.finishedAt ?? job.updatedAt,
        runId: job.runId,
        experimentId: job.experimentId,
      },
      benchmark.order,
    );
  }

  private async runSandboxed(
    payload: JobPayload,
    run: TrackedRun,
    stop: AbortSignal,
    benchmark: Benchmark | undefined,
    gpu?: string,
  ): Promise<{ outcome: SandboxOutcome; files: RunFiles }> {
    const base = payload.config_file ? await this.storage.loadSubmissionConfig(payload.submission_id, payload.config_file) : {};
    const effective = deepMerge(base, payload.config);
    await this.tracking.logParams(run.runId, flattenConfig(effective)).catch(() => undefined);
    const files = await this.storage.prepareRun(payload.job_id, effective);
    const outcome = await this.sandbox.run(
      {
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
      },
      stop,
    );
    return { outcome, files };
  }

  /** The log is worth keeping with the run even when the tracking server hiccups; never fatal. */
  private async uploadLog(jobId: string, runId: string): Promise<void> {
    const log = await this.storage.loadLogs(jobId, 0, LOG_ARTIFACT_BYTES).catch(() => undefined);
    if (!log) return;
    await this.tracking.logArtifact(runId, 'logs/job.log', new TextEncoder().encode(log.text)).catch(() => undefined);
  }

  private async endQuietly(runId: string, status: Exclude<RunStatus, 'RUNNING'>): Promise<void> {
    await this.tracking.endRun(runId, status).catch(() => undefined);
  }

  private async finish(
    jobId: string,
    status: 'completed' | 'failed' | 'cancelled',
    errorMessage: string | null,
    scores: Scores | null = null,
  ): Promise<{ outcome: 'finished'; job: Job }> {
    const job = await this.status.update(jobId, { status, errorMessage, finishedAt: this.isoNow(), ...(scores ? { scores } : {}) });
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
