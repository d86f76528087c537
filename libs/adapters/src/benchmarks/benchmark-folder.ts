import { lstatSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { BENCHMARK_ID, BenchmarkListing } from '@app/domain';
import { BenchmarkSettings, parseBenchmarkYaml } from './benchmark-yaml';

/** benchmark.yaml is a page of settings; anything bigger is a mistake, not a benchmark. */
const MAX_YAML_BYTES = 64 * 1024;

/** What is wrong with one part of a benchmark folder; `part` is relative to the folder ('' for the folder). */
export interface FolderProblem {
  part: string;
  text: string;
}

/**
 * Reads one benchmark folder: `benchmark.yaml`, `public/`, `reference/` and `score.py`. Every
 * problem is collected, so one look at the log tells an operator all that needs fixing.
 */
export function readBenchmarkFolder(folder: string, id: string): { listing: BenchmarkListing; problems: FolderProblem[] } {
  if (!BENCHMARK_ID.test(id)) {
    const problems = [{ part: '', text: `the folder name "${id}" is not a benchmark id (1 to 64 lowercase letters, digits and dashes)` }];
    return { listing: unavailable(id, problems), problems };
  }
  const problems: FolderProblem[] = [];
  try {
    statSync(folder);
  } catch (error) {
    // A symbolic link to a folder that is gone: one line says so, instead of every part missing.
    problems.push({ part: '', text: `the folder ${missingOrUnreadable(error)}` });
    return { listing: unavailable(id, problems), problems };
  }
  const settings = readSettings(path.join(folder, 'benchmark.yaml'), problems);
  requireFolder(folder, 'public', 'the data every job may read', problems);
  requireFolder(folder, 'reference', 'the hidden data only the scorer reads', problems);
  requireScorer(folder, problems);
  if (!settings || problems.length > 0) return { listing: unavailable(id, problems), problems };
  return {
    listing: {
      id,
      available: true,
      benchmark: {
        id,
        ...settings,
        publicDir: path.join(folder, 'public'),
        referenceDir: path.join(folder, 'reference'),
        scorerPath: path.join(folder, 'score.py'),
      },
    },
    problems,
  };
}

function unavailable(id: string, problems: FolderProblem[]): BenchmarkListing {
  return { id, available: false, problem: problems.map((problem) => (problem.part ? `${problem.part}: ${problem.text}` : problem.text)).join('; ') };
}

function readSettings(file: string, problems: FolderProblem[]): BenchmarkSettings | undefined {
  let text: string;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) {
      problems.push({ part: 'benchmark.yaml', text: 'must be a file' });
      return undefined;
    }
    if (stats.size > MAX_YAML_BYTES) {
      problems.push({ part: 'benchmark.yaml', text: `${stats.size} bytes; at most ${MAX_YAML_BYTES}` });
      return undefined;
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push({ part: 'benchmark.yaml', text: missingOrUnreadable(error) });
    return undefined;
  }
  const parsed = parseBenchmarkYaml(text);
  if ('problems' in parsed) {
    problems.push(...parsed.problems.map((problem) => ({ part: 'benchmark.yaml', text: problem })));
    return undefined;
  }
  return parsed.settings;
}

/** A data folder; a symbolic link to a folder is fine (large data often lives on another disk). */
function requireFolder(folder: string, name: string, role: string, problems: FolderProblem[]): void {
  try {
    if (!statSync(path.join(folder, name)).isDirectory()) problems.push({ part: `${name}/`, text: `must be a folder (${role})` });
  } catch (error) {
    problems.push({ part: `${name}/`, text: `${missingOrUnreadable(error)} (${role})` });
  }
}

/** The scorer is mounted into its sandbox by path, so it must be the file itself, not a link elsewhere. */
function requireScorer(folder: string, problems: FolderProblem[]): void {
  try {
    const stats = lstatSync(path.join(folder, 'score.py'));
    if (stats.isSymbolicLink()) problems.push({ part: 'score.py', text: 'must be a regular file, not a symbolic link' });
    else if (!stats.isFile()) problems.push({ part: 'score.py', text: 'must be a regular file' });
  } catch (error) {
    problems.push({ part: 'score.py', text: missingOrUnreadable(error) });
  }
}

function missingOrUnreadable(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'missing' : `cannot be read (${code ?? (error as Error).message})`;
}
