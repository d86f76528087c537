import { ScoreRequest, ScoreRun, ScorerPort } from '@app/domain';

/** Stands in for the sandboxed scorer in unit tests: answers what `next` says, default a fixed score. */
export class ScriptedScorer extends ScorerPort {
  readonly requests: ScoreRequest[] = [];
  next: ScoreRun | ((request: ScoreRequest, abort: AbortSignal) => Promise<ScoreRun>) = {
    outcome: { kind: 'succeeded' },
    scoresJson: '{"auc": 0.9, "ap": 0.8}',
  };

  async score(request: ScoreRequest, abort: AbortSignal): Promise<ScoreRun> {
    this.requests.push(request);
    return typeof this.next === 'function' ? this.next(request, abort) : structuredClone(this.next);
  }
}
