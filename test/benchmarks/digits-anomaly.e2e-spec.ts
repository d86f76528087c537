import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The shipped digits-anomaly benchmark, run with the project's real python: its data is what
 * build.py writes, its scorer ranks the real example above the weak one, and every malformed
 * predictions file fails with one line that names the problem and never a label.
 */
const ROOT = path.resolve(__dirname, '../..');
const PYTHON = path.join(process.env.VENV_DIR || path.join(ROOT, '.venv'), 'bin', 'python');
const BENCHMARK = path.join(ROOT, 'benchmarks', 'digits-anomaly');
const REFERENCE = path.join(BENCHMARK, 'reference');
/** The test ids in public/test.csv's order (read now: the malformed cases below are built from them). */
const testIds = readFileSync(path.join(BENCHMARK, 'public', 'test.csv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split(',')[0]);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function python(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(PYTHON, args, { env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let work: string;
/** The slow runs (each python start imports scikit-learn), started together in beforeAll. */
let rebuild: Run;
let realExample: Run;
let weakExample: Run;
let realScored: Scored;
let weakScored: Scored;
let lenientScored: Scored;

type Scored = Run & { scores?: Record<string, number> };

function runExample(name: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const example = path.join(ROOT, 'examples', name);
  return python([path.join(example, 'main.py'), '--config', path.join(example, 'config.yaml'), '--output', path.join(work, name)], {
    MLFLOW_TRACKING_URI: '',
    ...env,
  });
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'lb-digits-'));
  [rebuild, realExample, weakExample] = await Promise.all([
    python([path.join(BENCHMARK, 'build.py'), '--out', path.join(work, 'rebuilt')]),
    runExample('anomaly-digits', { LEADERBOARD_DATA_DIR: path.join(BENCHMARK, 'public') }),
    runExample('weak-digits'),
  ]);
  const predictionsOf = (name: string) => readFile(path.join(work, name, 'predictions.csv'), 'utf8').catch(() => '');
  const lenient = testIds.map((id, index) => `${id},${index}e-3`).reverse();
  [realScored, weakScored, lenientScored] = await Promise.all([
    score({ 'predictions.csv': await predictionsOf('anomaly-digits') }),
    score({ 'predictions.csv': await predictionsOf('weak-digits') }),
    score({ 'predictions.csv': `\ufeffid,score\r\n${lenient.join('\r\n')}\r\n` }),
  ]);
}, 60_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

let caseNumber = 0;
/** Scores a predictions dir holding `files`; returns the run and the scores.json it wrote, if any. */
async function score(files: Record<string, string | Buffer>): Promise<Scored> {
  const dir = path.join(work, `case-${++caseNumber}`);
  await mkdir(path.join(dir, 'predictions'), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, 'predictions', name), text);
  const run = await python([
    path.join(BENCHMARK, 'score.py'),
    '--predictions', path.join(dir, 'predictions'),
    '--reference', REFERENCE,
    '--output', path.join(dir, 'output'),
  ]);
  const written = await readdir(path.join(dir, 'output')).catch((): string[] => []);
  const scores = written.includes('scores.json')
    ? (JSON.parse(await readFile(path.join(dir, 'output', 'scores.json'), 'utf8')) as Record<string, number>)
    : undefined;
  return { ...run, scores };
}

function rows(scoreOf: (id: string, index: number) => string): string {
  return ['id,score', ...testIds.map((id, index) => `${id},${scoreOf(id, index)}`)].join('\n') + '\n';
}

describe('digits-anomaly benchmark', () => {
  it('build.py writes exactly the committed data', async () => {
    expect(rebuild.code).toBe(0);
    for (const file of ['public/train.csv', 'public/test.csv', 'reference/labels.csv']) {
      const rebuilt = await readFile(path.join(work, 'rebuilt', file), 'utf8');
      expect({ file, same: rebuilt === (await readFile(path.join(BENCHMARK, file), 'utf8')) }).toEqual({ file, same: true });
    }
    expect((await readdir(path.join(BENCHMARK, 'public'))).sort()).toEqual(['test.csv', 'train.csv']);
  });

  it('scores the real example high, with both metrics, and prints only the metrics', () => {
    expect(realExample).toMatchObject({ code: 0, stderr: '' });
    expect(realScored.code).toBe(0);
    expect(Object.keys(realScored.scores ?? {}).sort()).toEqual(['image_AUROC', 'image_average_precision']);
    expect(realScored.scores?.image_AUROC).toBeGreaterThan(0.95);
    expect(realScored.scores?.image_AUROC).toBeLessThanOrEqual(1);
    expect(realScored.scores?.image_average_precision).toBeGreaterThan(0.95);
    // Never a label: one summary line, nothing on stderr.
    expect(realScored.stdout).toMatch(/^scored 143 predictions: image_AUROC=[\d.]+, image_average_precision=[\d.]+\n$/);
    expect(realScored.stderr).toBe('');
  });

  it('scores the weak example clearly lower', () => {
    expect(weakExample.code).toBe(0);
    expect(weakScored.code).toBe(0);
    expect(weakScored.scores?.image_AUROC).toBeLessThan(0.7);
  });

  it('accepts ids in any order, a BOM, CRLF line ends and scientific notation', () => {
    expect(lenientScored).toMatchObject({ code: 0, stderr: '' });
  });

  const malformed: Array<[string, Record<string, string | Buffer> | (() => Record<string, string | Buffer>), string]> = [
    ['no predictions.csv', { 'metrics.json': '{}' }, 'no predictions.csv in the output dir (files there: metrics.json)'],
    ['an empty output dir', {}, 'no predictions.csv in the output dir (it is empty)'],
    ['an empty file', { 'predictions.csv': '' }, 'predictions.csv is empty: expected the header line `id,score`'],
    ['a wrong header', () => ({ 'predictions.csv': rows(() => '1').replace('id,score', 'id,anomaly_score') }),
      'predictions.csv line 1: header must be exactly `id,score`, got "id,anomaly_score"'],
    ['a score that is not a number', () => ({ 'predictions.csv': rows((_id, index) => (index === 15 ? 'abc' : '0.5')) }),
      'predictions.csv line 17: score "abc" is not a number'],
    ['a NaN score', () => ({ 'predictions.csv': rows((_id, index) => (index === 2 ? 'nan' : '0.5')) }),
      'predictions.csv line 4: score "nan" is not a finite number'],
    ['an infinite score', () => ({ 'predictions.csv': rows((_id, index) => (index === 0 ? '-inf' : '0.5')) }),
      'predictions.csv line 2: score "-inf" is not a finite number'],
    ['an empty score', () => ({ 'predictions.csv': rows((_id, index) => (index === 0 ? '' : '0.5')) }),
      'predictions.csv line 2: score "" is not a number'],
    ['a row with three fields', () => ({ 'predictions.csv': rows((_id, index) => (index === 4 ? '0.5,1' : '0.5')) }),
      'predictions.csv line 6: expected 2 fields (id,score), got 3'],
    ['an unknown id', () => ({ 'predictions.csv': rows(() => '0.5') + '9999,0.5\n' }),
      `predictions.csv line ${testIds.length + 2}: id "9999" is not a test id`],
    ['a duplicate id', () => ({ 'predictions.csv': rows(() => '0.5') + `${testIds[3]},0.7\n` }),
      `predictions.csv line ${testIds.length + 2}: id ${testIds[3]} appears again (first on line 5)`],
    ['missing ids', () => ({ 'predictions.csv': ['id,score', ...testIds.slice(12).map((id) => `${id},0.5`)].join('\n') }),
      `predictions.csv: 12 test ids have no prediction (first: ${testIds[0]})`],
    ['text that is not UTF-8', { 'predictions.csv': Buffer.from('id,score\n1,\xff\n', 'latin1') }, 'predictions.csv: not UTF-8 text (byte 11)'],
    ['a file over 10 MB', () => ({ 'predictions.csv': rows(() => '0.5') + '#'.repeat(10 * 1024 * 1024) }),
      'predictions.csv is larger than 10 MB'],
  ];

  it.each(malformed)('%s: exit 1 with one line that says what is wrong', async (_name, files, message) => {
    const run = await score(typeof files === 'function' ? files() : files);
    expect(run.code).toBe(1);
    expect(run.scores).toBeUndefined();
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    if (message) expect(run.stderr.trim()).toBe(message);
    expect(run.stdout + run.stderr).not.toContain('label');
  });

  it('refuses a predictions.csv that is a symlink (it could point at the reference)', async () => {
    const dir = path.join(work, 'symlinked');
    await mkdir(dir, { recursive: true });
    await symlink(path.join(REFERENCE, 'labels.csv'), path.join(dir, 'predictions.csv'));
    const run = await python([path.join(BENCHMARK, 'score.py'), '--predictions', dir, '--reference', REFERENCE, '--output', path.join(work, 'symlinked-out')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('predictions.csv cannot be opened (a symlink): write a plain file');
  });

  it('computes exactly what scikit-learn computes, ties included', async () => {
    // The scorer does its own arithmetic (importing scikit-learn was nearly all its run time).
    const check = [
      'import importlib.util, random, sys',
      'from sklearn.metrics import average_precision_score, roc_auc_score',
      'spec = importlib.util.spec_from_file_location("score", sys.argv[1])',
      'score = importlib.util.module_from_spec(spec); spec.loader.exec_module(score)',
      'rng = random.Random(7); worst = 0.0',
      'for _ in range(300):',
      '    n = rng.randint(2, 150); y = [rng.randint(0, 1) for _ in range(n)]',
      '    if len(set(y)) < 2: continue',
      '    s = [rng.choice([rng.random(), round(rng.random(), 1), rng.randint(0, 2)]) for _ in range(n)]',
      '    worst = max(worst, abs(score.roc_auc(y, s) - roc_auc_score(y, s)), abs(score.average_precision(y, s) - average_precision_score(y, s)))',
      'print(worst)',
    ].join('\n');
    const run = await python(['-c', check, path.join(BENCHMARK, 'score.py')]);
    expect(run.code).toBe(0);
    expect(Number(run.stdout)).toBeLessThan(1e-12);
  });
});
