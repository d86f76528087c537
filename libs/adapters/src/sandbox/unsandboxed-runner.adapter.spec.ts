import { SandboxOutcome } from '@app/domain';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findLauncher } from './launcher';
import { UnsandboxedRunner } from './unsandboxed-runner.adapter';

/** SANDBOX=none: no isolation, but the same launcher, a scrubbed environment, rlimits and group kill. */
const pythonBin = path.join(process.env.VENV_DIR ?? path.resolve(__dirname, '../../../../.venv'), 'bin', 'python');
const limits = { timeoutSeconds: 5, memoryMb: 256, pidsMax: 64 };

let root: string;
let runner: UnsandboxedRunner;
let counter = 0;

async function runJob(code: string, options: { limits?: Partial<typeof limits>; abort?: AbortSignal; dataDir?: string } = {}): Promise<{ outcome: SandboxOutcome; log: string; outputDir: string; seconds: number }> {
  const name = `job-${++counter}`;
  const submissionDir = path.join(root, name, 'submission');
  const outputDir = path.join(root, name, 'output');
  await mkdir(submissionDir, { recursive: true });
  await mkdir(outputDir);
  await writeFile(path.join(submissionDir, 'main.py'), code);
  await writeFile(path.join(root, name, 'config.yaml'), '{"epochs": 2}');
  const logPath = path.join(root, name, 'job.log');
  const started = Date.now();
  const outcome = await runner.run(
    {
      jobId: name,
      submissionDir,
      outputDir,
      entrypoint: 'main.py',
      configPath: path.join(root, name, 'config.yaml'),
      logPath,
      env: { MLFLOW_RUN_ID: 'run-9' },
      limits: { ...limits, ...options.limits },
      dataDir: options.dataDir,
    },
    options.abort ?? new AbortController().signal,
  );
  return { outcome, log: await readFile(logPath, 'utf8'), outputDir, seconds: (Date.now() - started) / 1000 };
}

beforeAll(async () => {
  process.env.API_TOKENS = 'alice:unsandboxed-secret';
  root = await mkdtemp(path.join(tmpdir(), 'lb-unsandboxed-'));
  runner = new UnsandboxedRunner({ pythonBin, trackingUri: 'http://127.0.0.1:5999' });
});

afterAll(async () => {
  delete process.env.API_TOKENS;
  await rm(root, { recursive: true, force: true });
});

describe('UnsandboxedRunner', () => {
  it('self-checks, saying there is no sandbox', async () => {
    expect(await runner.selfCheck()).toMatch(/^no sandbox \(SANDBOX=none\): python 3\.\d+\.\d+/);
  });

  it('points LEADERBOARD_DATA_DIR at a benchmark\'s public dir where it is, and sets none without one', async () => {
    const code = 'import os\nprint(os.environ.get("LEADERBOARD_DATA_DIR"))\n';
    expect((await runJob(code, { dataDir: '/srv/benchmarks/b/public' })).log).toBe('/srv/benchmarks/b/public\n');
    expect((await runJob(code)).log).toBe('None\n');
  });

  it('runs the entrypoint in the submission dir with the scrubbed environment', async () => {
    const code = `
import json, os, sys
json.dump({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": sorted(os.environ)}, open(os.path.join(sys.argv[4], "seen.json"), "w"))
print("done")
`;
    const { outcome, log, outputDir } = await runJob(code);
    expect(outcome).toEqual({ kind: 'succeeded' });
    expect(log).toBe('done\n');
    const seen = JSON.parse(await readFile(path.join(outputDir, 'seen.json'), 'utf8'));
    expect(seen.argv).toEqual(['--config', path.join(path.dirname(outputDir), 'config.yaml'), '--output', outputDir]);
    expect(seen.cwd).toBe(path.join(path.dirname(outputDir), 'submission'));
    expect(seen.env).not.toContain('API_TOKENS');
    expect(seen.env).toEqual(
      ['HOME', 'LANG', 'MLFLOW_DISABLE_TELEMETRY', 'MLFLOW_RUN_ID', 'MLFLOW_TRACKING_URI', 'MPLCONFIGDIR', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'TMPDIR'],
    );
  });

  it('reports an exit code with the tail', async () => {
    expect((await runJob('import sys\nprint("boom", file=sys.stderr)\nsys.exit(4)\n')).outcome).toEqual({ kind: 'exit_code', exitCode: 4, stderrTail: 'boom' });
  });

  it('kills the whole process group on timeout', async () => {
    const marker = `unsandboxed-${process.pid}-${Date.now()}`;
    const code = `import subprocess, sys, time\nsubprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])\ntime.sleep(60)\n`;
    const { outcome, seconds } = await runJob(code, { limits: { timeoutSeconds: 2 } });
    expect(outcome).toEqual({ kind: 'timeout', seconds: 2 });
    expect(seconds).toBeLessThan(5);
    expect(spawnSync('pgrep', ['-f', marker]).status).toBe(1);
  });

  it('kills a running job on abort', async () => {
    const controller = new AbortController();
    const job = runJob('import time\ntime.sleep(60)\n', { abort: controller.signal, limits: { timeoutSeconds: 30 } });
    await sleep(500);
    controller.abort();
    const { outcome, seconds } = await job;
    expect(outcome).toEqual({ kind: 'aborted' });
    expect(seconds).toBeLessThan(3);
  });

  it('tells a signal from exit code 128+N, and caps open files at 1024', async () => {
    expect((await runJob('import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n')).outcome).toMatchObject({ kind: 'signal', signal: 'SIGTERM' });
    expect((await runJob('import sys\nsys.exit(143)\n')).outcome).toMatchObject({ kind: 'exit_code', exitCode: 143 });
    expect((await runJob('import resource\nprint(resource.getrlimit(resource.RLIMIT_NOFILE))\n')).log).toBe('(1024, 1024)\n');
  });

  it('caps memory with RLIMIT_DATA', async () => {
    const { outcome } = await runJob('chunks = []\nwhile True:\n    chunks.append(b"x" * (16 * 2**20))\n', { limits: { memoryMb: 128 } });
    expect(outcome).toMatchObject({ kind: 'exit_code', exitCode: 1, stderrTail: expect.stringContaining('MemoryError') });
  });
});

describe('launcher.py', () => {
  it('keeps only its status fd and hands the user\'s code only stdio, whatever fds the chain inherited', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lb-launcher-'));
    try {
      // The test runs as root, which may look into the launcher's fds: it kept only the status fd.
      const code = 'import os\nfds = lambda pid: sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd") if os.path.exists(f"/proc/{pid}/fd/{fd}"))\nprint(fds("self"), fds(os.getppid()))\n';
      await writeFile(path.join(dir, 'main.py'), code);
      // fd 9 and 251 open in the launcher, as a shell or a worker may leave them.
      const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
      while (stdio.length <= 251) stdio.push(stdio.length === 9 || stdio.length === 251 ? 'pipe' : 'ignore');
      const result = spawnSync(pythonBin, ['-I', findLauncher(), '--entrypoint=main.py', '--config=c', '--output=o', '--status-fd=9'], { cwd: dir, stdio, encoding: 'utf8' });
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('[0, 1, 2] [0, 1, 2, 9]\n');
      expect(result.output[9]).toBe('exit 0\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps its relay forwarder serving through connections whose both ends close at once', () => {
    const churn = path.join(__dirname, 'testing', 'forwarder-churn.py');
    const result = spawnSync(pythonBin, [churn, path.dirname(findLauncher())], { encoding: 'utf8', timeout: 30_000 });
    expect(result.stdout.trim()).toBe('alive');
  });
});
