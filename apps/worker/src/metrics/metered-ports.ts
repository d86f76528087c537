import { SandboxOutcome, SandboxRequest, SandboxRunnerPort, ScoreRequest, ScoreRun, ScorerPort } from '@app/domain';
import { WorkerMetrics } from './worker-metrics';

/** The sandbox runner, counting runs the sandbox itself failed (not the user's code failing). */
export class MeteredSandboxRunner extends SandboxRunnerPort {
  constructor(
    private readonly inner: SandboxRunnerPort,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
  }

  async run(request: SandboxRequest, abort: AbortSignal): Promise<SandboxOutcome> {
    let outcome: SandboxOutcome;
    try {
      outcome = await this.inner.run(request, abort);
    } catch (error) {
      this.metrics.sandboxFailures.inc({ kind: 'exception' });
      throw error;
    }
    if (outcome.kind === 'sandbox_error') this.metrics.sandboxFailures.inc({ kind: 'sandbox_error' });
    return outcome;
  }

  selfCheck(): Promise<string> {
    return this.inner.selfCheck();
  }
}

/** The benchmark scorer, counting scorings that gave no scores (a scorer is trusted: any failure is the operator's). */
export class MeteredScorer extends ScorerPort {
  constructor(
    private readonly inner: ScorerPort,
    private readonly metrics: WorkerMetrics,
  ) {
    super();
  }

  async score(request: ScoreRequest, abort: AbortSignal): Promise<ScoreRun> {
    let run: ScoreRun;
    try {
      run = await this.inner.score(request, abort);
    } catch (error) {
      this.metrics.scorerFailures.inc({ kind: 'exception' });
      throw error;
    }
    const { kind } = run.outcome;
    if (kind !== 'aborted' && (kind !== 'succeeded' || run.scoresJson === null)) {
      this.metrics.scorerFailures.inc({ kind: kind === 'succeeded' ? 'no_scores' : kind });
    }
    return run;
  }
}
