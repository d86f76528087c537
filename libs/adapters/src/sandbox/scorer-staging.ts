import { chmod, chown, copyFile, mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { CopyLimits, copyRegularTree, PREDICTION_LIMITS } from './copy-regular-tree';
import { readScoresFile, SCORES_FILE, ScoresFile } from './read-scores';
import { Owner } from './sandbox-host';
import { mirror } from './slot-staging';

/**
 * A scorer slot's staging dir, `<stageRoot>/score-N/`, owned by the worker (root): the scorer's uid
 * may only enter it (group, 0750) and write its own output/. Nothing here was ever reachable by a job:
 * the predictions are copies, made afresh, and the program is a copy too.
 */
export class ScorerStaging {
  readonly program: string;
  readonly predictions: string;
  readonly reference: string;
  readonly output: string;
  readonly etc: string;

  private constructor(readonly dir: string) {
    this.program = path.join(dir, 'scorer');
    this.predictions = path.join(dir, 'predictions');
    this.reference = path.join(dir, 'reference');
    this.output = path.join(dir, 'output');
    this.etc = path.join(dir, 'etc');
  }

  /** `owner`: the scorer's uid and gid when the worker drops root; absent, everything stays the worker's. */
  static async create(stageRoot: string, slot: number, owner?: Owner): Promise<ScorerStaging> {
    const staging = new ScorerStaging(path.join(stageRoot, `score-${slot}`));
    await rm(staging.dir, { recursive: true, force: true });
    await mkdir(staging.dir, { mode: 0o700 });
    await mkdir(staging.etc, { mode: 0o755 });
    await mkdir(staging.output, { mode: 0o700 });
    if (owner) {
      await chown(staging.dir, 0, owner.gid);
      await chmod(staging.dir, 0o750);
      await chown(staging.output, owner.uid, owner.gid);
    }
    return staging;
  }

  /** score.py, copied read-only: the scorer cannot change it, and no job ever saw this copy. */
  async stageProgram(scorerPath: string): Promise<void> {
    await mkdir(this.program, { mode: 0o755 });
    const copy = path.join(this.program, 'score.py');
    await copyFile(scorerPath, copy);
    await chmod(copy, 0o444);
    await chmod(this.program, 0o555);
  }

  async stageReference(referenceDir: string): Promise<void> {
    await mirror(referenceDir, this.reference);
  }

  /** Regular files and folders only (see copyRegularTree); resolves to what was left out. */
  stagePredictions(predictionsDir: string, limits: CopyLimits = PREDICTION_LIMITS): Promise<string[]> {
    return copyRegularTree(predictionsDir, this.predictions, limits);
  }

  readScores(): Promise<ScoresFile> {
    return readScoresFile(path.join(this.output, SCORES_FILE));
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** The log lines that say what of the job's output the scorer did not get, and why. */
export function leftOutNote(leftOut: string[]): string {
  if (leftOut.length === 0) return '';
  const shown = leftOut.slice(0, 10).map((line) => `platform: left out of the predictions (only regular files and folders are passed): ${line}\n`);
  const more = leftOut.length > 10 ? [`platform: and ${leftOut.length - 10} more left out\n`] : [];
  return [...shown, ...more].join('');
}
