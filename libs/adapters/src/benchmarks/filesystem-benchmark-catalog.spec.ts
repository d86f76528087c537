import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchmarkListing } from '@app/domain';
import { benchmarkCatalogContract } from '../../../domain/test/contracts/benchmark-catalog.contract';
import { ConfigError } from '../config/config-error';
import { FileSystemBenchmarkCatalog } from './filesystem-benchmark-catalog';

const VALID_YAML = ['title: Digits', 'description: Find the odd digit.', 'metric: image_AUROC', 'order: desc', ''].join('\n');

interface FolderParts {
  yaml?: string | null;
  publicDir?: boolean;
  referenceDir?: boolean;
  scorer?: 'file' | 'folder' | 'symlink' | null;
}

/** Writes a benchmark folder; every part is valid unless overridden (null: absent). */
function writeBenchmark(root: string, id: string, parts: FolderParts = {}): string {
  const folder = path.join(root, id);
  mkdirSync(folder, { recursive: true });
  const yaml = parts.yaml === undefined ? VALID_YAML : parts.yaml;
  if (yaml !== null) writeFileSync(path.join(folder, 'benchmark.yaml'), yaml);
  if (parts.publicDir !== false) mkdirSync(path.join(folder, 'public'));
  if (parts.referenceDir !== false) mkdirSync(path.join(folder, 'reference'));
  const scorer = parts.scorer === undefined ? 'file' : parts.scorer;
  const scorePath = path.join(folder, 'score.py');
  if (scorer === 'file') writeFileSync(scorePath, 'print("scored")\n');
  if (scorer === 'folder') mkdirSync(scorePath);
  if (scorer === 'symlink') {
    writeFileSync(path.join(folder, 'real_score.py'), 'print("scored")\n');
    symlinkSync('real_score.py', scorePath);
  }
  return folder;
}

function problemOf(listing: BenchmarkListing | undefined): string {
  if (!listing || listing.available) throw new Error(`expected an unavailable listing, got ${JSON.stringify(listing)}`);
  return listing.problem;
}

describe('FileSystemBenchmarkCatalog', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'benchmarks-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  describe('contract', () =>
    benchmarkCatalogContract(async ({ valid, invalid }) => {
      for (const id of valid) writeBenchmark(root, id);
      for (const id of invalid) writeBenchmark(root, id, { yaml: 'title: broken\n' });
      return FileSystemBenchmarkCatalog.load(root);
    }));

  it('reads a valid folder into a benchmark with absolute paths and default scorer limits', () => {
    const folder = writeBenchmark(root, 'digits', { yaml: `${VALID_YAML}secondary:\n  - image_average_precision\n` });
    const catalog = FileSystemBenchmarkCatalog.load(path.relative(process.cwd(), root));
    expect(catalog.get('digits')).toEqual({
      id: 'digits',
      available: true,
      benchmark: {
        id: 'digits',
        title: 'Digits',
        description: 'Find the odd digit.',
        metric: 'image_AUROC',
        order: 'desc',
        secondary: ['image_average_precision'],
        scorer: { timeoutSeconds: 300, memoryMb: 1024 },
        publicDir: path.join(folder, 'public'),
        referenceDir: path.join(folder, 'reference'),
        scorerPath: path.join(folder, 'score.py'),
      },
    });
    expect(catalog.problems()).toEqual([]);
  });

  it('takes the scorer limits from benchmark.yaml', () => {
    writeBenchmark(root, 'digits', { yaml: `${VALID_YAML.replace('order: desc', 'order: asc')}scorer:\n  timeout_s: 120\n  memory_mb: 2048\n` });
    const listing = FileSystemBenchmarkCatalog.load(root).get('digits');
    expect(listing).toMatchObject({ available: true, benchmark: { order: 'asc', scorer: { timeoutSeconds: 120, memoryMb: 2048 } } });
  });

  it.each([
    ['bad YAML', 'title: [unclosed\n', /^benchmark\.yaml: not valid YAML: /],
    ['duplicate keys', `${VALID_YAML}title: Again\n`, /^benchmark\.yaml: not valid YAML: Map keys must be unique at line 5, column 1$/],
    ['an alias to no anchor', `${VALID_YAML}secondary: [*nope]\n`, /^benchmark\.yaml: not valid YAML: Unresolved alias/],
    ['two documents', `${VALID_YAML}---\ntitle: more\n`, /^benchmark\.yaml: not valid YAML: /],
    ['an empty file', '', /^benchmark\.yaml: empty; it needs title, description, metric and order$/],
    ['a list at the top', '- title\n', /^benchmark\.yaml: the top level must be a mapping/],
    ['no metric', VALID_YAML.replace('metric: image_AUROC\n', ''), /^benchmark\.yaml: metric is missing$/],
    ['no title', VALID_YAML.replace('title: Digits\n', ''), /^benchmark\.yaml: title is missing$/],
    ['no order', VALID_YAML.replace('order: desc\n', ''), /^benchmark\.yaml: order is missing \(asc or desc\)$/],
    ['a bad order', VALID_YAML.replace('order: desc', 'order: descending'), /^benchmark\.yaml: order must be asc or desc, got "descending"$/],
    ['an unknown key', `${VALID_YAML}metrics: auc\n`, /^benchmark\.yaml: unknown key "metrics"/],
    ['an unknown scorer key', `${VALID_YAML}scorer:\n  timeout: 5\n`, /^benchmark\.yaml: unknown key "scorer\.timeout"/],
    ['a number as title', VALID_YAML.replace('title: Digits', 'title: 42'), /^benchmark\.yaml: title must be a non-empty string$/],
    ['a list as metric', VALID_YAML.replace('metric: image_AUROC', 'metric: [a, b]'), /^benchmark\.yaml: metric must be a metric name .* got a list$/],
    ['a metric MLflow refuses', VALID_YAML.replace('metric: image_AUROC', 'metric: "auc,roc"'), /^benchmark\.yaml: metric must be a metric name/],
    ['secondary not a list', `${VALID_YAML}secondary: ap\n`, /^benchmark\.yaml: secondary must be a list of metric names, got "ap"$/],
    ['a secondary twice', `${VALID_YAML}secondary: [ap, ap]\n`, /^benchmark\.yaml: secondary names "ap" twice$/],
    ['a fractional timeout', `${VALID_YAML}scorer:\n  timeout_s: 1.5\n`, /^benchmark\.yaml: scorer\.timeout_s must be a whole number from 1 to 86400, got 1\.5$/],
    ['a string memory', `${VALID_YAML}scorer:\n  memory_mb: lots\n`, /^benchmark\.yaml: scorer\.memory_mb must be a whole number .* got "lots"$/],
    ['scorer not a mapping', `${VALID_YAML}scorer: 5\n`, /^benchmark\.yaml: scorer must be a mapping/],
    ['binary data', VALID_YAML.replace('title: Digits', 'title: !!binary aGk='), /^benchmark\.yaml: title must be a non-empty string$/],
  ])('lists a folder with %s as unavailable, naming benchmark.yaml', (_kind, yaml, expected) => {
    writeBenchmark(root, 'broken', { yaml });
    writeBenchmark(root, 'good');
    const catalog = FileSystemBenchmarkCatalog.load(root);
    expect(problemOf(catalog.get('broken'))).toMatch(expected);
    expect(catalog.get('good')?.available).toBe(true);
    expect(catalog.problems()).toHaveLength(1);
    expect(catalog.problems()[0]).toContain(`benchmark broken is unavailable: ${path.join(root, 'broken', 'benchmark.yaml')}: `);
  });

  it('collects every problem of a folder in one line', () => {
    writeBenchmark(root, 'broken', { yaml: 'title: x\nmetric: 3\nextra: 1\n', publicDir: false, scorer: null });
    expect(problemOf(FileSystemBenchmarkCatalog.load(root).get('broken'))).toBe(
      'benchmark.yaml: unknown key "extra" (known: title, description, metric, order, secondary, scorer); ' +
        'benchmark.yaml: description is missing; ' +
        'benchmark.yaml: metric must be a metric name of 1 to 200 letters, digits, _ - . : / or spaces, got 3; ' +
        'benchmark.yaml: order is missing (asc or desc); ' +
        'public/: missing (the data every job may read); ' +
        'score.py: missing',
    );
  });

  it.each([
    ['no benchmark.yaml', { yaml: null }, 'benchmark.yaml: missing'],
    ['benchmark.yaml a folder', { yaml: null }, 'benchmark.yaml: must be a file'],
    ['no score.py', { scorer: null }, 'score.py: missing'],
    ['score.py a folder', { scorer: 'folder' }, 'score.py: must be a regular file'],
    ['score.py a symbolic link', { scorer: 'symlink' }, 'score.py: must be a regular file, not a symbolic link'],
    ['no public/', { publicDir: false }, 'public/: missing (the data every job may read)'],
    ['no reference/', { referenceDir: false }, 'reference/: missing (the hidden data only the scorer reads)'],
  ] as const)('lists a folder with %s as unavailable', (kind, parts, expected) => {
    const folder = writeBenchmark(root, 'broken', parts);
    if (kind === 'benchmark.yaml a folder') mkdirSync(path.join(folder, 'benchmark.yaml'));
    writeBenchmark(root, 'good');
    const catalog = FileSystemBenchmarkCatalog.load(root);
    expect(problemOf(catalog.get('broken'))).toBe(expected);
    expect(catalog.get('good')?.available).toBe(true);
    expect(catalog.problems()).toEqual([`benchmark broken is unavailable: ${path.join(folder, expected.replace(/: .*/, ''))}: ${expected.replace(/^[^:]*: /, '')}`]);
  });

  it('a file where public/ should be a folder', () => {
    const folder = writeBenchmark(root, 'broken', { publicDir: false });
    writeFileSync(path.join(folder, 'public'), 'not a folder');
    expect(problemOf(FileSystemBenchmarkCatalog.load(root).get('broken'))).toBe('public/: must be a folder (the data every job may read)');
  });

  it('accepts public/ and reference/ as symbolic links to folders', () => {
    const folder = writeBenchmark(root, 'linked', { publicDir: false });
    mkdirSync(path.join(root, '.data'));
    symlinkSync(path.join(root, '.data'), path.join(folder, 'public'));
    expect(FileSystemBenchmarkCatalog.load(root).get('linked')?.available).toBe(true);
  });

  it('lists an empty folder as unavailable with every missing part', () => {
    mkdirSync(path.join(root, 'empty'));
    expect(problemOf(FileSystemBenchmarkCatalog.load(root).get('empty'))).toBe(
      'benchmark.yaml: missing; public/: missing (the data every job may read); reference/: missing (the hidden data only the scorer reads); score.py: missing',
    );
  });

  it('lists a folder whose name is not a benchmark id as unavailable', () => {
    writeBenchmark(root, 'Digits_Anomaly');
    const catalog = FileSystemBenchmarkCatalog.load(root);
    expect(problemOf(catalog.get('Digits_Anomaly'))).toBe('the folder name "Digits_Anomaly" is not a benchmark id (1 to 64 lowercase letters, digits and dashes)');
    expect(catalog.problems()).toEqual([`benchmark Digits_Anomaly is unavailable: ${path.join(root, 'Digits_Anomaly')}: the folder name "Digits_Anomaly" is not a benchmark id (1 to 64 lowercase letters, digits and dashes)`]);
  });

  it('reports a symbolic link to a folder that is gone', () => {
    symlinkSync(path.join(root, 'nowhere'), path.join(root, 'gone'));
    expect(problemOf(FileSystemBenchmarkCatalog.load(root).get('gone'))).toBe('the folder missing');
  });

  it('follows a symbolic link to a benchmark folder', () => {
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'benchmark-elsewhere-'));
    try {
      writeBenchmark(elsewhere, 'real');
      symlinkSync(path.join(elsewhere, 'real'), path.join(root, 'linked'));
      expect(FileSystemBenchmarkCatalog.load(root).get('linked')).toMatchObject({ available: true, benchmark: { scorerPath: path.join(root, 'linked', 'score.py') } });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('skips hidden folders and plain files silently', () => {
    writeBenchmark(root, '.staging', { yaml: null });
    writeFileSync(path.join(root, 'README.md'), 'benchmarks live here\n');
    writeBenchmark(root, 'good');
    const catalog = FileSystemBenchmarkCatalog.load(root);
    expect(catalog.list().map((listing) => listing.id)).toEqual(['good']);
    expect(catalog.problems()).toEqual([]);
  });

  it('refuses a benchmark.yaml too big to be settings', () => {
    writeBenchmark(root, 'huge', { yaml: `${VALID_YAML}# ${'x'.repeat(70_000)}\n` });
    expect(problemOf(FileSystemBenchmarkCatalog.load(root).get('huge'))).toMatch(/^benchmark\.yaml: \d+ bytes; at most 65536$/);
  });

  it('a missing default folder is an empty catalog; a missing BENCHMARKS_DIR set explicitly is a start error', () => {
    const missing = path.join(root, 'absent');
    const catalog = FileSystemBenchmarkCatalog.load(missing);
    expect(catalog.list()).toEqual([]);
    expect(catalog.problems()).toEqual([]);
    expect(() => FileSystemBenchmarkCatalog.load(missing, { required: true })).toThrow(ConfigError);
    expect(() => FileSystemBenchmarkCatalog.load(missing, { required: true })).toThrow(`BENCHMARKS_DIR ${missing} cannot be read as a folder (ENOENT)`);
  });

  it('a benchmarks path that is a file is a problem line, or a start error when required', () => {
    const file = path.join(root, 'file');
    writeFileSync(file, '');
    expect(FileSystemBenchmarkCatalog.load(file).problems()).toEqual([`${file}: cannot be read as the benchmarks folder (ENOTDIR); no benchmark is available`]);
    expect(() => FileSystemBenchmarkCatalog.load(file, { required: true })).toThrow(ConfigError);
  });

  it('loads the digits-anomaly benchmark shipped in the repository', () => {
    const listing = FileSystemBenchmarkCatalog.load(path.join(__dirname, '../../../../benchmarks')).get('digits-anomaly');
    expect(listing).toMatchObject({ available: true, benchmark: { metric: 'image_AUROC', order: 'desc', secondary: ['image_average_precision'] } });
  });
});
