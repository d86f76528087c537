import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BubblewrapSandboxRunner } from './bubblewrap-sandbox-runner.adapter';
import { closedFolderOnTheWay, FALLBACK_WORK_DIR, sandboxWorkDir } from './reachable';

/**
 * SHARED_DIR inside a folder only root may enter (a `mktemp -d`, anything under /root): the real
 * sandbox still runs jobs, since bwrap reaches the staged files through a descriptor the worker opened.
 */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const asRoot = process.getuid?.() === 0;

(asRoot ? describe : describe.skip)('the sandbox under a parent only root may enter', () => {
  let parent: string;
  let shared: string;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), 'private-parent-'));
    expect((await stat(parent)).mode & 0o777).toBe(0o700);
    shared = path.join(parent, 'data');
    await mkdir(shared);
  });

  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('passes the self-check and runs a job that reads its files and writes its output', async () => {
    const runner = new BubblewrapSandboxRunner({ pythonBin, trackingUri: 'http://127.0.0.1:5099', workDir: path.join(shared, 'run') });
    await expect(runner.selfCheck()).resolves.toContain(`staging under ${FALLBACK_WORK_DIR}: ${parent} (mode 0700) is closed to the sandbox's uids`);
    const submissionDir = path.join(shared, 'submissions', 'job-a');
    const outputDir = path.join(shared, 'artifacts', 'job-a');
    const dataDir = path.join(shared, 'benchmarks', 'public');
    await mkdir(submissionDir, { recursive: true });
    await mkdir(outputDir, { recursive: true });
    await mkdir(dataDir, { recursive: true });
    await writeFile(path.join(submissionDir, 'main.py'), [
      'import os',
      'print(open("helper.txt").read().strip(), open(os.environ["LEADERBOARD_DATA_DIR"] + "/x.csv").read().strip())',
      'open("/output/result.txt", "w").write("written")',
    ].join('\n'));
    await writeFile(path.join(submissionDir, 'helper.txt'), 'staged');
    await writeFile(path.join(dataDir, 'x.csv'), 'public');
    await writeFile(path.join(shared, 'config.yaml'), '{}\n');
    const logPath = path.join(shared, 'job-a.log');
    const outcome = await runner.run(
      {
        jobId: 'job-a',
        submissionDir,
        outputDir,
        dataDir,
        entrypoint: 'main.py',
        configPath: path.join(shared, 'config.yaml'),
        logPath,
        env: {},
        limits: { timeoutSeconds: 30, memoryMb: 256, pidsMax: 16 },
      },
      new AbortController().signal,
    );
    const log = await readFile(logPath, 'utf8');
    expect({ outcome, log }).toEqual({ outcome: { kind: 'succeeded' }, log: 'staged public\n' });
    expect(await readFile(path.join(outputDir, 'result.txt'), 'utf8')).toBe('written');
  });
});

describe('sandboxWorkDir', () => {
  let parent: string;

  beforeAll(async () => {
    parent = await mkdtemp(path.join(tmpdir(), 'reach-'));
  });

  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('keeps a work dir every folder above lets others through, made or not', async () => {
    await chmod(parent, 0o711);
    expect(sandboxWorkDir(path.join(parent, 'data', 'run'))).toEqual({ dir: path.join(parent, 'data', 'run') });
  });

  it('refuses in one line naming the folder, its mode and the fix when the fallback is closed too', async () => {
    await chmod(parent, 0o700);
    const closedFallback = path.join(parent, 'fallback');
    const result = sandboxWorkDir(path.join(parent, 'data', 'run'), closedFallback);
    expect(result.dir).toBe(path.join(parent, 'data', 'run'));
    expect(result.closed).toBe(
      `the sandbox's uids cannot reach the work dir ${parent}/data/run: ${parent} (mode 0700) lacks execute (search) permission for other users; ` +
        `chmod o+x ${parent}, or set WORKER_WORK_DIR to a folder other users may pass through`,
    );
    expect(result.closed).not.toContain('\n');
  });

  it('finds the first closed folder, not a later one', async () => {
    await chmod(parent, 0o750);
    await mkdir(path.join(parent, 'inner'), { mode: 0o700 }).catch(() => undefined);
    expect(closedFolderOnTheWay(path.join(parent, 'inner', 'x'))).toEqual({ folder: parent, mode: 0o750 });
    await chmod(parent, 0o755);
    expect(closedFolderOnTheWay(path.join(parent, 'inner', 'x'))).toEqual({ folder: path.join(parent, 'inner'), mode: 0o700 });
  });
});
