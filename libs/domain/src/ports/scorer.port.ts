import { ScorerLimits } from '../model/benchmark';
import { SandboxOutcome } from './sandbox-runner.port';

/** One scoring of one job's predictions. Paths are host paths. */
export interface ScoreRequest {
  jobId: string;
  /** The benchmark's score.py. */
  scorerPath: string;
  /** What the job wrote: seen read-only by the scorer as --predictions. */
  predictionsDir: string;
  /** The benchmark's hidden reference data: seen read-only as --reference. */
  referenceDir: string;
  /** The scorer's own output (stdout and stderr), kept apart from the job's log. */
  logPath: string;
  limits: ScorerLimits;
}

/** How the scorer ended, and the scores.json it wrote (null: none, or too big to be one). */
export interface ScoreRun {
  outcome: SandboxOutcome;
  scoresJson: string | null;
}

/** Runs a benchmark's trusted scorer in its own sandbox: no network, no relay, its own uid. */
export abstract class ScorerPort {
  abstract score(request: ScoreRequest, abort: AbortSignal): Promise<ScoreRun>;
}
