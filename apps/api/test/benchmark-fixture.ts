import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface BenchmarkFixture {
  dir: string;
  remove(): Promise<void>;
}

const SCORER = 'import json, sys\nprint("fixture scorer: not run by the API tests", file=sys.stderr)\nsys.exit(1)\n';

/**
 * A BENCHMARKS_DIR for API tests: `alpha` (desc, with secondary metrics), `errors` (asc, none),
 * `gamma` (desc, for rebuilds), `delta` (desc, for jobs made through the API) and `broken` (no
 * metric: listed as unavailable). Each test owns a board, so none depends on another's rows.
 */
export async function writeBenchmarkFixture(): Promise<BenchmarkFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lb-benchmarks-'));
  await writeBenchmark(dir, 'alpha', ['title: Alpha', 'description: Score every image.', 'metric: auroc', 'order: desc', 'secondary: [ap, f1]']);
  await writeBenchmark(dir, 'errors', ['title: Errors', 'description: Lower is better.', 'metric: error_rate', 'order: asc']);
  await writeBenchmark(dir, 'gamma', ['title: Gamma', 'description: Rebuilt from stored jobs.', 'metric: auroc', 'order: desc', 'secondary: [ap]']);
  await writeBenchmark(dir, 'delta', ['title: Delta', 'description: Jobs sent through POST /jobs.', 'metric: auroc', 'order: desc', 'secondary: [ap]']);
  await writeBenchmark(dir, 'broken', ['title: Broken', 'description: Has no metric.', 'order: desc']);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

async function writeBenchmark(root: string, id: string, yaml: string[]): Promise<void> {
  const dir = path.join(root, id);
  await mkdir(path.join(dir, 'public'), { recursive: true });
  await mkdir(path.join(dir, 'reference'), { recursive: true });
  await writeFile(path.join(dir, 'benchmark.yaml'), `${yaml.join('\n')}\n`);
  await writeFile(path.join(dir, 'public', 'train.csv'), 'x\n1\n');
  await writeFile(path.join(dir, 'reference', 'labels.csv'), 'y\n0\n');
  await writeFile(path.join(dir, 'score.py'), SCORER);
}
