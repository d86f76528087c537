import { Job, JobPayload } from '../model/job';
import { deepMerge, flattenConfig } from '../model/deep-merge';
import { formatMemory, LimitsByClass } from '../model/run-limits';
import { PlatformRunTags } from '../model/run-keys';
import { ClockPort } from '../ports/clock.port';
import { JobStatusPort } from '../ports/job-status.port';
import { SandboxOutcome, SandboxRunnerPort } from '../ports/sandbox-runner.port';
import { StoragePort } from '../ports/storage.port';
import { RunStatus, TrackedRun, TrackingPort } from '../ports/tracking.port';

/** Why a run was stopped from outside: a user's cancel, or the worker shutting down (requeue). */
export type StopReason = 'cancel' | 'shutdown';

export type Execution =
  | { outcome: 'finished'; job: Job }
  | { outcome: 'requeue' }
  | { outcome: 'skipped'; reason: string };

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
    private readonly settings: ExecuteJobSettings,
  ) {}

  async execute(payload: JobPayload, stop: AbortSignal, gpu?: string): Promise<Execution> {
    const jobId = payload.job_id;
    const before = await this.status.get(jobId);
    if (!before) return { outcome: 'skipped', reason: `job ${jobId} has no status record` };
    if (before.runId) await this.endQuietly(before.runId, 'FAILED');

    const running = await this.status.update(jobId, { status: 'running', startedAt: this.isoNow(), errorMessage: null });
    if (running.status !== 'running') return { outcome: 'skipped', reason: `job ${jobId} is already ${running.status}` };

    let run: TrackedRun;
    try {
      const tags: PlatformRunTags = { user_id: running.userId, submission_id: running.submissionId, job_id: jobId };
      run = await this.tracking.startRun(this.settings.experimentName, jobId, tags);
    } catch (error) {
      return this.finish(jobId, 'failed', `tracking server unavailable: ${(error as Error).message}`);
    }
    await this.status.update(jobId, { runId: run.runId, experimentId: run.experimentId });

    let outcome: SandboxOutcome;
    try {
      outcome = await this.runSandboxed(payload, run, stop, gpu);
    } catch (error) {
      await this.endQuietly(run.runId, 'FAILED');
      return this.finish(jobId, 'failed', (error as Error).message);
    }
    const ending = endingOf(outcome, stop);
    // The log upload and the run's final status are independent round trips: do them together.
    await Promise.all([this.uploadLog(jobId, run.runId), this.endQuietly(run.runId, ending.runStatus)]);
    if (ending.jobStatus === 'pending') {
      await this.status.update(jobId, { status: 'pending', startedAt: null, runId: null, experimentId: null });
      return { outcome: 'requeue' };
    }
    return this.finish(jobId, ending.jobStatus, ending.errorMessage);
  }

  private async runSandboxed(payload: JobPayload, run: TrackedRun, stop: AbortSignal, gpu?: string): Promise<SandboxOutcome> {
    const base = payload.config_file ? await this.storage.loadSubmissionConfig(payload.submission_id, payload.config_file) : {};
    const effective = deepMerge(base, payload.config);
    await this.tracking.logParams(run.runId, flattenConfig(effective)).catch(() => undefined);
    const files = await this.storage.prepareRun(payload.job_id, effective);
    return this.sandbox.run(
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
      },
      stop,
    );
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

  private async finish(jobId: string, status: 'completed' | 'failed' | 'cancelled', errorMessage: string | null): Promise<Execution> {
    const job = await this.status.update(jobId, { status, errorMessage, finishedAt: this.isoNow() });
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

/** The error_message a person reads for a run that did not succeed. */
export function describeFailure(outcome: Exclude<SandboxOutcome, { kind: 'succeeded' } | { kind: 'aborted' }>): string {
  switch (outcome.kind) {
    case 'timeout':
      return `timeout after ${outcome.seconds} s`;
    case 'out_of_memory':
      return `out of memory (limit ${formatMemory(outcome.limitMb)})`;
    case 'process_limit':
      return `process limit reached (at most ${outcome.pidsMax} processes)`;
    case 'exit_code':
      return withTail(`exit code ${outcome.exitCode}`, outcome.stderrTail);
    case 'signal':
      return withTail(`killed by ${outcome.signal}`, outcome.stderrTail);
    case 'sandbox_error':
      return `sandbox could not start: ${outcome.message}`;
  }
}

function withTail(head: string, tail: string): string {
  const trimmed = tail.trim();
  return trimmed ? `${head}: ${trimmed}` : head;
}
