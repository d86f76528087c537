import { SandboxOutcome, ScoreRequest, ScoreRun, ScorerPort } from '@app/domain';
import { FileHandle, open } from 'node:fs/promises';
import { bwrapArgs, INSIDE, INSIDE_PATH, SCORER_INSIDE, sandboxEnv, scorerMounts } from './bwrap-args';
import { JobCgroup } from './cgroup';
import { DEFAULT_LOG_MB } from './capped-log';
import { CopyLimits } from './copy-regular-tree';
import { launcherCommand } from './launcher';
import { pollCappedOutput } from './output-disk';
import { ScoresFile } from './read-scores';
import { runSandboxed } from './sandbox-chain';
import { DEFAULT_UID_BASE, JOB_ID, Owner, SandboxHost, SandboxHostOptions, writeEtcFiles } from './sandbox-host';
import { leftOutNote, ScorerStaging } from './scorer-staging';

export interface BubblewrapScorerOptions extends SandboxHostOptions {
  /** The jobs' uid base (default 200000); scorer slot N runs as base + SCORER_UID_OFFSET + N when the worker is root. */
  sandboxUidBase?: number;
  /** What of a job's output the scorer is handed at most (default: 1 GiB, 10,000 entries, 32 levels). */
  predictionLimits?: CopyLimits;
  /** JOB_LOG_MB: what one scoring may add to the job's log (default 50 MiB). */
  logMaxBytes?: number;
}

/** Scorer uids sit this far above the job slots' uids: no scorer ever shares a uid with a job. */
export const SCORER_UID_OFFSET = 1000;
/** Processes and threads of a scorer (numpy's thread pools count). */
export const SCORER_PIDS = 256;
/** A scorer's CPU quota in cores, whatever the job's class: scoring is one pass over the predictions. */
export const SCORER_CPUS = 1;
/**
 * What a scorer's /output may hold (polled). Only scores.json (at most 1 MiB) is read from it, but the
 * cap is also RLIMIT_FSIZE for every file the scorer writes, /tmp's (up to 1 GiB) included.
 */
export const SCORER_OUTPUT_MB = 1024;
const MB = 2 ** 20;

/** The scorer's arguments, as the benchmark contract states them. */
export const SCORER_ARGS = [
  '--predictions', SCORER_INSIDE.predictions,
  '--reference', SCORER_INSIDE.reference,
  '--output', SCORER_INSIDE.output,
];

/**
 * Runs a benchmark's score.py in a bubblewrap sandbox of its own, through the same chain as jobs
 * (cgroup or rlimits, setpriv, seccomp, the launcher as pid 1), with: no network and no MLflow relay
 * (no MLFLOW_* variable either), its own uid, /scorer/score.py, /predictions (a copy of the job's
 * regular files), /reference read-only, and a fresh /output; the working dir is /scorer (read-only).
 *
 * scores.json is read with O_NOFOLLOW from a regular file of at most 1 MiB. Missing: scoresJson null
 * (the domain says "no scores.json"). A link, a folder, a fifo or a larger file: a sandbox_error
 * outcome that says so, since no usable verdict came out.
 */
export class BubblewrapScorer extends ScorerPort {
  private readonly host: SandboxHost;
  private readonly uidBase: number;

  constructor(private readonly options: BubblewrapScorerOptions) {
    super();
    this.host = new SandboxHost(options);
    this.uidBase = (options.sandboxUidBase ?? DEFAULT_UID_BASE) + SCORER_UID_OFFSET;
  }

  async score(request: ScoreRequest, abort: AbortSignal): Promise<ScoreRun> {
    if (abort.aborted) return { outcome: { kind: 'aborted' }, scoresJson: null };
    const slot = this.host.takeSlot();
    const cleanups: (() => Promise<unknown>)[] = [];
    try {
      let prepared: PreparedScoring;
      try {
        prepared = await this.prepare(request, slot, cleanups);
      } catch (error) {
        return failure(`could not stage the scorer: ${(error as Error).message}`);
      }
      const outcome = await this.execute(request, prepared, abort).catch((error: Error): SandboxOutcome => ({ kind: 'sandbox_error', message: error.message }));
      if (outcome.kind !== 'succeeded') return { outcome, scoresJson: null };
      return verdict(await prepared.staging.readScores());
    } finally {
      for (const step of cleanups.reverse()) await step().catch(() => undefined);
      this.host.releaseSlot(slot);
    }
  }

  private async prepare(request: ScoreRequest, slot: number, cleanups: (() => Promise<unknown>)[]): Promise<PreparedScoring> {
    if (!JOB_ID.test(request.jobId)) throw new Error(`job id "${request.jobId}" cannot name a directory`);
    const owner = this.host.owner(this.uidBase + slot);
    const launcher = await this.host.ready();
    const staging = await ScorerStaging.create(this.host.stageRoot, slot, this.host.dropRoot ? owner : undefined);
    cleanups.push(() => staging.remove());
    await staging.stageProgram(request.scorerPath);
    await staging.stageReference(request.referenceDir);
    const leftOut = await staging.stagePredictions(request.predictionsDir, this.options.predictionLimits);
    const etc = await writeEtcFiles(staging.etc, owner, undefined, 'scorer');
    const cgroup = await this.host.createCgroup(`${request.jobId}@scorer`, { memoryMb: request.limits.memoryMb, pidsMax: SCORER_PIDS, cpus: SCORER_CPUS });
    if (cgroup) cleanups.push(() => cgroup.remove());
    const log = await open(request.logPath, 'a');
    cleanups.push(() => log.close());
    const logStart = (await log.stat()).size;
    // After logStart: the tail of a failed scoring then shows what the scorer was not given.
    await log.write(leftOutNote(leftOut));
    return { owner, launcher, staging, etc, cgroup, log, logStart };
  }

  private async execute(request: ScoreRequest, scoring: PreparedScoring, abort: AbortSignal): Promise<SandboxOutcome> {
    const limits = { ...request.limits, pidsMax: SCORER_PIDS, cpus: SCORER_CPUS, outputMb: SCORER_OUTPUT_MB };
    const options = bwrapArgs({
      layout: await this.host.hostLayout(),
      venvDir: this.host.venvDir,
      launcherPath: scoring.launcher,
      etcFiles: scoring.etc,
      mounts: scorerMounts({
        programDir: scoring.staging.program,
        predictionsDir: scoring.staging.predictions,
        referenceDir: scoring.staging.reference,
        outputDir: scoring.staging.output,
      }),
      chdir: SCORER_INSIDE.dir,
      env: sandboxEnv({ requestEnv: {}, home: INSIDE.tmp, path: INSIDE_PATH }),
      tmpBytes: Math.min(limits.memoryMb, 1024) * MB,
      devices: [],
    });
    return runSandboxed({
      bwrapOptions: options,
      command: launcherCommand({ python: `${INSIDE.venv}/bin/python`, launcher: INSIDE.launcher, entrypoint: SCORER_INSIDE.program, args: SCORER_ARGS }),
      owner: this.host.dropRoot ? scoring.owner : undefined,
      cgroup: scoring.cgroup,
      limits,
      seccomp: this.host.seccomp,
      log: { path: request.logPath, fd: scoring.log.fd, start: scoring.logStart, maxBytes: this.options.logMaxBytes ?? DEFAULT_LOG_MB * MB },
      output: pollCappedOutput(scoring.staging.output, SCORER_OUTPUT_MB),
      abort,
    });
  }
}

interface PreparedScoring {
  owner: Owner;
  launcher: string;
  staging: ScorerStaging;
  etc: Awaited<ReturnType<typeof writeEtcFiles>>;
  cgroup?: JobCgroup;
  log: FileHandle;
  logStart: number;
}

function failure(message: string): ScoreRun {
  return { outcome: { kind: 'sandbox_error', message }, scoresJson: null };
}

/** A succeeded run's scores.json: its text, none, or a sandbox_error naming what is wrong with it. */
export function verdict(file: ScoresFile): ScoreRun {
  if ('problem' in file) return failure(file.problem);
  return { outcome: { kind: 'succeeded' }, scoresJson: file.json };
}
