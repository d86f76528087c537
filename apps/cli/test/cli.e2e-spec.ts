import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi, TOKENS } from '../../api/test/harness';
import { childCoverageEnv, freePort, RunningWorker, startWorker, stopWorker } from '../../worker/test/worker-harness';

// The built CLI (npx nest build cli) against the real API, worker, sandbox, MLflow and Redis.
jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/leaderboard.js');
const CLI_MAIN = path.join(ROOT, 'dist/apps/cli/main.js');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Cli {
  run(args: string[], env?: Record<string, string>): Promise<CliRun>;
  /** Starts the CLI and resolves once `ready` holds for its stdout; `done` resolves when it exits. */
  start(args: string[], ready: (stdout: string) => boolean): Promise<{ stdout: () => string; done: Promise<CliRun> }>;
}

function cliFor(url: string, token = TOKENS.alice): Cli {
  const launch = (args: string[], env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LEADERBOARD_URL: url, LEADERBOARD_TOKEN: token, ...childCoverageEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const done = new Promise<CliRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    return { done, stdout: () => stdout };
  };
  return {
    run: (args, env) => launch(args, env).done,
    async start(args, ready) {
      const running = launch(args);
      const deadline = Date.now() + 20_000;
      while (!ready(running.stdout())) {
        if (Date.now() > deadline) throw new Error(`the CLI never printed what was awaited; stdout so far: ${running.stdout()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return running;
    },
  };
}

async function program(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lb-cli-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

async function filesUnder(folder: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const relative = `${prefix}${entry.name}`;
    if (entry.isDirectory()) found.push(...(await filesUnder(path.join(folder, entry.name), `${relative}/`)));
    else found.push(relative);
  }
  return found.sort();
}

describe('leaderboard CLI (built CLI, real API and worker)', () => {
  let api: RunningApi;
  let worker: RunningWorker;
  let cli: Cli;
  const dirs: string[] = [];
  const made = async (files: Record<string, string>) => {
    const dir = await program(files);
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: build the CLI first (npx nest build cli, or npm run build)`);
    api = await startApi({ BENCHMARKS_DIR: path.join(ROOT, 'benchmarks'), RATE_LIMIT_JOBS_PER_HOUR: '1000', RATE_LIMIT_CONCURRENT_JOBS: '1000' });
    worker = await startWorker(api, { WORKER_CONCURRENCY: '2' });
    cli = cliFor(api.url);
  });
  afterAll(async () => {
    if (worker) await stopWorker(worker);
    await api?.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('--help lists every command and the exit codes (exit 0); a bad flag is a usage error (exit 2)', async () => {
    const help = await cli.run(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['submit', 'status', 'logs', 'cancel', 'rerun', 'jobs', 'benchmarks', 'board']) expect(help.stdout).toContain(command);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*4 +rate limited/);

    const bad = await cli.run(['submit', 'examples/noop', '--nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--nope'");
    expect((await cli.run(['submit', 'examples/noop', '--class', 'huge'])).code).toBe(2);
    expect((await cli.run(['jobs', '--limit', 'ten'])).code).toBe(2);
  });

  it('refuses a DIR without its entrypoint, or with it ignored, before uploading (exit 2)', async () => {
    const dir = await made({ 'train.py': 'print(1)\n', '.leaderboardignore': 'main.py\n' });
    const missing = await cli.run(['submit', dir]);
    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toContain(`the entrypoint main.py does not exist in ${dir}`);
    await writeFile(path.join(dir, 'main.py'), 'print(1)\n');
    const ignored = await cli.run(['submit', dir]);
    expect(ignored.code).toBe(2);
    expect(ignored.stderr).toContain('is left out by .gitignore or .leaderboardignore');
    expect((await cli.run(['submit', dir, '--set', 'a=1', '--set', 'a.b=2'])).stderr).toContain('a was already set to a value');
  });

  it('submit examples/anomaly-digits --benchmark digits-anomaly --wait --follow --json: completed and scored (exit 0), the log on stderr, then on the board and in the job list', async () => {
    const submitted = await cli.run(['submit', 'examples/anomaly-digits', '--benchmark', 'digits-anomaly', '--wait', '--follow', '--json', '--set', 'pca.n_components=10']);
    expect(submitted.code).toBe(0);
    const result = JSON.parse(submitted.stdout);
    expect(result).toMatchObject({ status: 'completed', benchmark: 'digits-anomaly', error_message: null });
    expect(result.scores.image_AUROC).toEqual(expect.any(Number));
    expect(Object.keys(result.reported_metrics).length).toBeGreaterThan(0);
    expect(result.links).toMatchObject({ status: `${api.url}/jobs/${result.job_id}/status`, leaderboard: `${api.url}/benchmarks/digits-anomaly/leaderboard` });
    expect(result.links.mlflow_run).toContain(result.run_id);
    expect(submitted.stderr).toContain(`job ${result.job_id} completed on digits-anomaly: image_AUROC=`);
    const log = await request(api.server).get(`/jobs/${result.job_id}/logs`).set(auth('alice')).expect(200);
    expect(log.text.length).toBeGreaterThan(0);
    expect(submitted.stderr).toContain(log.text);
    const job = await request(api.server).get(`/jobs/${result.job_id}/status`).set(auth('alice')).expect(200);
    expect(job.body.config).toMatchObject({ pca: { n_components: 10 } });

    const csv = await cli.run(['board', 'digits-anomaly', '--csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/^rank,/);
    expect(csv.stdout).toContain(result.job_id);
    const table = await cli.run(['board', 'digits-anomaly']);
    expect(table.stdout).toMatch(/RANK +USER +image_AUROC/);

    const jobs = await cli.run(['jobs', '--json', '--limit', '5']);
    expect(jobs.code).toBe(0);
    expect(JSON.parse(jobs.stdout).jobs.map((listed: { job_id: string }) => listed.job_id)).toContain(result.job_id);
    const benchmarks = JSON.parse((await cli.run(['benchmarks', '--json'])).stdout);
    expect(benchmarks.benchmarks[0]).toMatchObject({ id: 'digits-anomaly', available: true, ranked_jobs: 1 });
  });

  it('a program that exits 3: --wait exits 1 and prints its error message', async () => {
    const dir = await made({ 'main.py': 'import sys\nprint("about to fail")\nsys.exit(3)\n' });
    const failed = await cli.run(['submit', dir, '--wait']);
    expect(failed.code).toBe(1);
    const jobId = failed.stdout.trim();
    const job = await request(api.server).get(`/jobs/${jobId}/status`).set(auth('alice')).expect(200);
    expect(job.body.status).toBe('failed');
    expect(failed.stderr).toContain(`job ${jobId} failed: ${job.body.error_message}`);
    const status = await cli.run(['status', jobId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/status: +failed/);
  });

  it('a job cancelled while --wait watches it: exit 3', async () => {
    const dir = await made({ 'main.py': 'import time\nprint("sleeping", flush=True)\ntime.sleep(60)\n' });
    const running = await cli.start(['submit', dir, '--wait'], (stdout) => stdout.includes('\n'));
    const jobId = running.stdout().trim();
    const cancelled = await cli.run(['cancel', jobId]);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${jobId} cancelled\n` });
    const outcome = await running.done;
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toContain(`job ${jobId} was cancelled`);
  });

  it('logs --follow gets the whole log of a running job, as logs does afterwards; rerun --wait runs it again', async () => {
    const lines = Array.from({ length: 40 }, (_, index) => `line ${index} ${'x'.repeat(index)}`);
    const dir = await made({ 'main.py': `import time\nfor line in ${JSON.stringify(lines)}:\n    print(line, flush=True)\n    time.sleep(0.01)\n` });
    const queued = await cli.run(['submit', dir]);
    const jobId = queued.stdout.trim();
    const followed = await cli.run(['logs', jobId, '--follow']);
    expect(followed.code).toBe(0);
    const whole = await cli.run(['logs', jobId]);
    expect(whole.stdout).toContain(lines.join('\n'));
    expect(followed.stdout).toBe(whole.stdout);

    const rerun = await cli.run(['rerun', jobId, '--wait', '--json']);
    expect(rerun.code).toBe(0);
    const again = JSON.parse(rerun.stdout);
    expect(again.job_id).not.toBe(jobId);
    expect(again.status).toBe('completed');
  });

  it('honours .gitignore (nested too) and .leaderboardignore, never packs .git/, and says nothing on stderr when it is a pipe', async () => {
    const dir = await made({
      'main.py': 'print("ok")\n',
      'config.yaml': 'a: 1\n',
      '.gitignore': 'secret.txt\nbuild/\n*.tmp.txt\n',
      '.leaderboardignore': 'notes.txt\n!keep.tmp.txt\n',
      'secret.txt': 'no',
      'notes.txt': 'no',
      'keep.tmp.txt': 'yes',
      'drop.tmp.txt': 'no',
      'build/out.txt': 'no',
      '.git/config': 'no',
      'src/util.py': 'x = 1\n',
      'src/.gitignore': 'local.json\n',
      'src/local.json': '{}',
    });
    const submitted = await cli.run(['submit', dir, '--json']);
    expect(submitted.code).toBe(0);
    expect(submitted.stderr).toBe('');
    const { submission_id: submissionId, status } = JSON.parse(submitted.stdout);
    expect(status).toBe('pending');
    const stored = await filesUnder(path.join(api.config.uploadRoot, submissionId, 'files'));
    expect(stored).toEqual(['.gitignore', '.leaderboardignore', 'config.yaml', 'keep.tmp.txt', 'main.py', 'src/.gitignore', 'src/util.py']);
  });

  it('on a terminal (a pty from script(1)) shows what it packed and the upload progress', async () => {
    const child = spawn('script', ['-qec', `${process.execPath} ${BIN} submit examples/noop`, '/dev/null'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LEADERBOARD_URL: api.url, LEADERBOARD_TOKEN: TOKENS.alice, ...childCoverageEnv() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(output).toMatch(/packed 1 file from examples\/noop \(\d+(\.\d)? (B|KiB)\)/);
    expect(output).toMatch(/uploading \[#+\] 100%/);
    expect(output).toMatch(/uploaded as submission [0-9a-f-]{36}/);
  });

  it('an unreachable API: exit 5; a bad token: exit 6 with the API message', async () => {
    const port = await freePort();
    const down = await cliFor(`http://127.0.0.1:${port}`).run(['status', 'some-job', '--json']);
    expect(down.code).toBe(5);
    expect(down.stderr).toContain(`API unreachable at http://127.0.0.1:${port} (ECONNREFUSED)`);
    expect(JSON.parse(down.stdout)).toEqual({ error: { message: expect.stringContaining('unreachable'), exit_code: 5 } });

    const wrongToken = cliFor(api.url, 'not-a-real-token');
    const upload = await wrongToken.run(['submit', 'examples/noop']);
    expect(upload.code).toBe(6);
    expect(upload.stderr).toMatch(/API error 401: .+/);
    const status = await wrongToken.run(['jobs']);
    expect(status.code).toBe(6);
    expect(status.stderr).toMatch(/API error 401: .+/);
  });

  it('rate limited (one concurrent job allowed, one pending): exit 4 with when to retry', async () => {
    const limited = await startApi({ BENCHMARKS_DIR: path.join(ROOT, 'benchmarks'), RATE_LIMIT_CONCURRENT_JOBS: '1' });
    try {
      const limitedCli = cliFor(limited.url);
      expect((await limitedCli.run(['submit', 'examples/noop'])).code).toBe(0);
      const refused = await limitedCli.run(['submit', 'examples/noop', '--json']);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/rate limited: .+; retry in \d+ s/);
      expect(JSON.parse(refused.stdout).error).toMatchObject({ exit_code: 4, http_status: 429, retry_after_s: expect.any(Number) });
    } finally {
      await limited.close();
    }
  });

  it('bin/leaderboard.js says how to build when dist/ is missing', async () => {
    const copy = await made({});
    await mkdir(path.join(copy, 'bin'));
    await writeFile(path.join(copy, 'bin/leaderboard.js'), await import('node:fs/promises').then((fs) => fs.readFile(BIN, 'utf8')));
    const unbuilt = await new Promise<CliRun>((resolve) => {
      const child = spawn(process.execPath, [path.join(copy, 'bin/leaderboard.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    expect(unbuilt.code).toBe(6);
    expect(unbuilt.stderr).toContain('run npm run build first');
  });
});
