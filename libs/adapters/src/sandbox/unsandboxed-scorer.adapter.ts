import { ScoreRequest, ScoreRun, ScorerPort } from '@app/domain';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sandboxEnv } from './bwrap-args';
import { verdict, SCORER_PIDS } from './bubblewrap-scorer.adapter';
import { CopyLimits, copyRegularTree } from './copy-regular-tree';
import { findLauncher, launcherCommand } from './launcher';
import { readScoresFile, SCORES_FILE } from './read-scores';
import { leftOutNote } from './scorer-staging';
import { runUnsandboxed } from './unsandboxed-chain';

export interface UnsandboxedScorerOptions {
  /** The venv's python. */
  pythonBin: string;
  /** Default: python/launcher.py of this checkout. */
  launcherPath?: string;
  predictionLimits?: CopyLimits;
}

/**
 * SANDBOX=none: score.py as the worker's own user, under rlimits, with a scrubbed environment (no
 * MLFLOW_* variable). Nothing is isolated; the predictions are still a copy of the job's regular
 * files only, so the scorer reads what it reads with the sandbox, and scores.json is read the same way.
 */
export class UnsandboxedScorer extends ScorerPort {
  private readonly launcherPath: string;

  constructor(private readonly options: UnsandboxedScorerOptions) {
    super();
    this.launcherPath = options.launcherPath ?? findLauncher();
  }

  async score(request: ScoreRequest, abort: AbortSignal): Promise<ScoreRun> {
    if (abort.aborted) return { outcome: { kind: 'aborted' }, scoresJson: null };
    const scratch = await mkdtemp(path.join(tmpdir(), 'leadersboard-score-'));
    const log = await open(request.logPath, 'a');
    try {
      const logStart = (await log.stat()).size;
      const predictions = path.join(scratch, 'predictions');
      const output = path.join(scratch, 'output');
      const home = path.join(scratch, 'home');
      await mkdir(output);
      await mkdir(home);
      let leftOut: string[];
      try {
        leftOut = await copyRegularTree(request.predictionsDir, predictions, this.options.predictionLimits);
      } catch (error) {
        return { outcome: { kind: 'sandbox_error', message: `could not stage the scorer: ${(error as Error).message}` }, scoresJson: null };
      }
      await log.write(leftOutNote(leftOut));
      const outcome = await runUnsandboxed({
        command: launcherCommand({
          python: this.options.pythonBin,
          launcher: this.launcherPath,
          entrypoint: request.scorerPath,
          args: ['--predictions', predictions, '--reference', request.referenceDir, '--output', output],
        }),
        env: { ...sandboxEnv({ requestEnv: {}, home, path: `${path.dirname(this.options.pythonBin)}:/usr/local/bin:/usr/bin:/bin` }), TMPDIR: home },
        cwd: path.dirname(request.scorerPath),
        limits: { ...request.limits, pidsMax: SCORER_PIDS },
        log: { path: request.logPath, fd: log.fd, start: logStart },
        abort,
      });
      if (outcome.kind !== 'succeeded') return { outcome, scoresJson: null };
      return verdict(await readScoresFile(path.join(output, SCORES_FILE)));
    } finally {
      await log.close();
      await rm(scratch, { recursive: true, force: true });
    }
  }
}
