import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './build';

export const EXAMPLE = path.join(ROOT, 'examples', 'anomaly-digits');

/**
 * A job that only hands over predictions it was uploaded with: it copies the submission's
 * predictions.txt (uploads take no .csv) to predictions.csv in --output. On a benchmark and off one it does the same work, so the
 * difference between the two is what scoring adds (/data staging, the scorer, the board).
 */
export const COPY_JOB = `import argparse, os, shutil
parser = argparse.ArgumentParser()
parser.add_argument("--config")
parser.add_argument("--output", required=True)
args = parser.parse_args()
shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "predictions.txt"), os.path.join(args.output, "predictions.csv"))
`;

/**
 * Real predictions for the benchmark: examples/anomaly-digits run once, unsandboxed, on the
 * benchmark's public data. Returns the wall time in ms.
 */
export function makePredictions(python: string, publicDir: string, outputDir: string): number {
  const begin = performance.now();
  const result = spawnSync(
    python,
    [path.join(EXAMPLE, 'main.py'), '--config', path.join(EXAMPLE, 'config.yaml'), '--output', outputDir, '--data', publicDir],
    { cwd: EXAMPLE, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: path.dirname(outputDir) } },
  );
  const ms = performance.now() - begin;
  if (result.status !== 0 || !existsSync(path.join(outputDir, 'predictions.csv'))) {
    throw new Error(`examples/anomaly-digits exited ${result.status ?? result.signal} without predictions.csv:\n${(result.stderr ?? '').slice(-2000)}`);
  }
  return ms;
}

/** The scores.json a scorer wrote into `outputDir`, or the reason there is none usable. */
export function readScores(outputDir: string, metric: string): { scores: Record<string, number> } | { problem: string } {
  const file = path.join(outputDir, 'scores.json');
  if (!existsSync(file)) return { problem: `no ${file}` };
  const scores = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  return typeof scores[metric] === 'number' ? { scores } : { problem: `${file} has no ${metric}` };
}
