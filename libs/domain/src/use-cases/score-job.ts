import { Benchmark } from '../model/benchmark';
import { parseScores, Scores } from '../model/scores';
import { ScorerPort } from '../ports/scorer.port';
import { describeFailure } from './describe-failure';

export type Scoring = { kind: 'scored'; scores: Scores } | { kind: 'failed'; message: string } | { kind: 'aborted' };

export interface ScoringTarget {
  jobId: string;
  /** What the job wrote: its predictions. */
  outputDir: string;
  scorerLogPath: string;
}

/** Runs a benchmark's scorer on a job's output and reads its verdict; every failure says what went wrong. */
export class ScoreJob {
  constructor(private readonly scorer: ScorerPort) {}

  async execute(benchmark: Benchmark, target: ScoringTarget, stop: AbortSignal): Promise<Scoring> {
    const run = await this.scorer.score(
      {
        jobId: target.jobId,
        scorerPath: benchmark.scorerPath,
        predictionsDir: target.outputDir,
        referenceDir: benchmark.referenceDir,
        logPath: target.scorerLogPath,
        limits: benchmark.scorer,
      },
      stop,
    );
    const { outcome } = run;
    if (outcome.kind === 'aborted') return { kind: 'aborted' };
    // The scorer's own sandbox errors (a scores.json that is a link, predictions too big to stage) say it all.
    if (outcome.kind === 'sandbox_error') return failed(outcome.message);
    if (outcome.kind !== 'succeeded') return failed(describeFailure(outcome));
    if (run.scoresJson === null) return failed('the scorer wrote no scores.json');
    const parsed = parseScores(run.scoresJson, benchmark.metric);
    if ('problem' in parsed) return failed(parsed.problem);
    return { kind: 'scored', scores: parsed.scores };
  }
}

function failed(detail: string): Scoring {
  return { kind: 'failed', message: `scoring failed: ${detail}` };
}
