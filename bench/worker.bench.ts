/**
 * `npm run bench:worker`: what the platform adds to each job, measured on a job that does nothing
 * (examples/noop/main.py), from the bare interpreter up to the whole HTTP -> queue -> worker ->
 * sandbox -> MLflow -> status path, and the job throughput per worker slot count. A benchmark, not a
 * test: it prints tables and PASS/MISS against the 300 ms target, and exits non-zero only when a
 * process crashed or a job (or run) did not complete.
 *
 *   1. bare python: `.venv/bin/python examples/noop/main.py --config X --output Y`, N times
 *      (plus `python -I python/launcher.py ...`, the same two-interpreter chain the sandbox runs, unsandboxed)
 *   2. bare sandboxed: BubblewrapSandboxRunner.run() in this process, built by the worker's own
 *      createSandboxRunner(config) from the worker's environment, N times
 *   3. whole path: real API + real worker processes (dist/), a throwaway MLflow; N jobs one at a
 *      time: POST /jobs, then GET /jobs/{id}/status every BENCH_POLL_MS until completed
 *   3b. profile: the same with the worker's MLflow traffic through a timing pass-through proxy
 *      (bench code only) and BullMQ's own job timestamps, for a per-step breakdown
 *   4. throughput: M jobs posted at once, with WORKER_CONCURRENCY = each of BENCH_SLOTS
 *   5. scoring, on BENCH_BENCHMARK with real predictions of examples/anomaly-digits (made once):
 *      (a) bare scorer: `.venv/bin/python score.py --predictions D --reference R --output O`, S times
 *      (b) the real BubblewrapScorer (the worker's createScorer(config)): staging, sandbox, scores.json, S times
 *      (c) whole path, S jobs each, alternating: a job that copies uploaded predictions.csv into its
 *          output, posted on the benchmark and with "benchmark": null; the difference is what scoring adds
 *
 * Settings (environment):
 *   BENCH_JOBS (20)        N: runs per measurement in 1-3
 *   BENCH_WARMUP (2)       uncounted runs before each measurement
 *   BENCH_BURST (20)       M: jobs posted at once in 4
 *   BENCH_SLOTS (1,2)      WORKER_CONCURRENCY values for 4 (the worker is restarted between them)
 *   BENCH_POLL_MS (15)     pause between status polls
 *   BENCH_PROFILE (1)      0 skips the profiled pass 3b
 *   BENCH_JOB_TIMEOUT_S (120) longest wait for one job (or one burst) to finish
 *   BENCH_SCORES (10)      S: runs per scoring measurement in 5 (0 skips 5)
 *   BENCH_BENCHMARK (digits-anomaly) the benchmark of the repository's benchmarks/ scored in 5
 *   REDIS_URL              default redis://127.0.0.1:6379/0
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BubblewrapSandboxRunner, bullPrefix, JOB_QUEUE_NAME, loadBenchmarkCatalog, loadConfig } from '@app/adapters';
import { Benchmark, SandboxOutcome, SandboxRequest } from '@app/domain';
import { createSandboxRunner, createScorer } from '../apps/worker/src/sandbox.provider';
import { ApiProcess, freePort, ROOT } from './lib/api-process';
import { callLabel, MlflowServer, ProxiedCall, TimingProxy } from './lib/mlflow-server';
import { multipartBody, MULTIPART_TYPE } from './lib/multipart';
import { fmt, mb, percentile, table, verdict } from './lib/stats';
import { ensureBothBuilt, unixNow, WorkerProcess } from './lib/worker-process';
import { reportProblems } from './lib/report';
import { COPY_JOB, makePredictions, readScores } from './lib/scoring';

const int = (name: string, fallback: number, min = 0) => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return value;
};

const JOBS = int('BENCH_JOBS', 20, 1);
const WARMUP = int('BENCH_WARMUP', 2);
const BURST = int('BENCH_BURST', 20, 1);
const SLOTS = (process.env.BENCH_SLOTS ?? '1,2')
  .split(',')
  .map((each) => Number(each.trim()))
  .filter((each) => Number.isInteger(each) && each > 0);
const POLL_MS = int('BENCH_POLL_MS', 15);
const PROFILE = int('BENCH_PROFILE', 1) > 0;
const JOB_TIMEOUT_MS = int('BENCH_JOB_TIMEOUT_S', 120, 1) * 1000;
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';
const RAISED_LIMIT = '1000000000';
const TARGET_MS = 300;
const SCORES = int('BENCH_SCORES', 10);
const BENCHMARK_ID = process.env.BENCH_BENCHMARK?.trim() || 'digits-anomaly';

const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
const NOOP = path.join(ROOT, 'examples', 'noop', 'main.py');
const LAUNCHER = path.join(ROOT, 'python', 'launcher.py');

const log = (line = '') => console.log(line);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const problems: string[] = [];

interface Dist {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

function dist(values: number[]): Dist {
  const finite = values.filter((value) => Number.isFinite(value));
  const sorted = Float64Array.from(finite).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.length > 0 ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length > 0 ? finite.reduce((sum, value) => sum + value, 0) / sorted.length : NaN,
  };
}

const distRow = (label: string, d: Dist, digits = 1) => [label, String(d.n), fmt(d.p50, digits), fmt(d.p95, digits), fmt(d.mean, digits), fmt(d.max, digits)];
const DIST_HEAD = ['', 'n', 'P50 ms', 'P95 ms', 'mean ms', 'max ms'];

/** Runs a command to its exit; the wall time in ms from spawn to exit. */
async function timeProcess(command: string, args: string[], cwd: string): Promise<number> {
  const begin = performance.now();
  const code = await new Promise<number | string>((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: os.tmpdir() } });
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? signal ?? -1));
  });
  const ms = performance.now() - begin;
  if (code !== 0) problems.push(`${command} ${args.join(' ')} exited with ${code}`);
  return ms;
}

interface StatusView {
  job_id: string;
  status: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error_message: string | null;
}

interface JobTiming {
  jobId: string;
  /** unix ms (bench clock): POST sent, 202 received, completed status received */
  sent: number;
  answered: number;
  seen: number;
  polls: number;
  pollMs: number[];
  view: StatusView;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  bull?: { timestamp: number; processedOn?: number; finishedOn?: number };
}

const isFinal = (status: string) => ['completed', 'failed', 'cancelled'].includes(status);
const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : NaN);

class Client {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  private headers(extra: Record<string, string> = {}) {
    return { Authorization: `Bearer ${this.token}`, ...extra };
  }

  async upload(file: string, extra: { filename: string; body: string | Buffer }[] = []): Promise<string> {
    const body = multipartBody([{ name: 'files', filename: 'main.py', body: readFileSync(file) }, ...extra.map((part) => ({ name: 'files', ...part }))]);
    const response = await fetch(`${this.url}/submissions`, { method: 'POST', headers: this.headers({ 'Content-Type': MULTIPART_TYPE }), body });
    if (response.status !== 201) throw new Error(`POST /submissions answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { submission_id: string }).submission_id;
  }

  /** `benchmark` undefined: the field is left out (the job is plain unless DEFAULT_BENCHMARK is set). */
  async post(submissionId: string, benchmark?: string | null): Promise<string> {
    const response = await fetch(`${this.url}/jobs`, {
      method: 'POST',
      headers: this.headers({ 'Content-Type': 'application/json', 'Idempotency-Key': randomUUID() }),
      body: JSON.stringify({ submission_id: submissionId, benchmark }),
    });
    if (response.status !== 202) throw new Error(`POST /jobs answered ${response.status}: ${await response.text()}`);
    return ((await response.json()) as { job_id: string }).job_id;
  }

  async status(jobId: string): Promise<StatusView> {
    const response = await fetch(`${this.url}/jobs/${jobId}/status`, { headers: this.headers() });
    if (response.status !== 200) throw new Error(`GET /jobs/${jobId}/status answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as StatusView;
  }

  async list(offset: number): Promise<{ jobs: StatusView[]; total: number }> {
    const response = await fetch(`${this.url}/jobs?limit=100&offset=${offset}`, { headers: this.headers() });
    if (response.status !== 200) throw new Error(`GET /jobs answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { jobs: StatusView[]; total: number };
  }
}

/** One job through the whole path: POST, then poll its status every POLL_MS until it is final. */
async function oneJob(client: Client, submissionId: string, queue: Queue, benchmark?: string | null): Promise<JobTiming> {
  const sent = unixNow();
  const jobId = await client.post(submissionId, benchmark);
  const answered = unixNow();
  const deadline = sent + JOB_TIMEOUT_MS;
  const pollMs: number[] = [];
  let view: StatusView;
  for (;;) {
    const begin = performance.now();
    view = await client.status(jobId);
    pollMs.push(performance.now() - begin);
    if (isFinal(view.status)) break;
    if (unixNow() > deadline) break;
    await sleep(POLL_MS);
  }
  const seen = unixNow();
  if (view.status !== 'completed') {
    problems.push(`job ${jobId} ended ${view.status} (${view.error_message ?? 'no message'}) after ${fmt(seen - sent, 0)} ms`);
  }
  // The status turns final just before BullMQ records the job finished; wait (outside the timing) for that too.
  let bullJob = await queue.getJob(jobId).catch(() => undefined);
  for (let tries = 0; tries < 50 && bullJob && !bullJob.finishedOn; tries++) {
    await sleep(10);
    bullJob = await queue.getJob(jobId).catch(() => undefined);
  }
  return {
    jobId,
    sent,
    answered,
    seen,
    polls: pollMs.length,
    pollMs,
    view,
    createdAt: ms(view.created_at),
    startedAt: ms(view.started_at),
    finishedAt: ms(view.finished_at),
    bull: bullJob ? { timestamp: bullJob.timestamp, processedOn: bullJob.processedOn, finishedOn: bullJob.finishedOn } : undefined,
  };
}

async function deleteKeys(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) deleted += await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  return deleted;
}

function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return (result.stdout || result.stderr || '?').trim().split('\n')[0];
}

/** Per-step rows of the profile: durations keyed by step name, in order of first appearance. */
class Steps {
  readonly rows = new Map<string, number[]>();
  add(label: string, value: number): void {
    if (!Number.isFinite(value)) return;
    if (!this.rows.has(label)) this.rows.set(label, []);
    this.rows.get(label)!.push(value);
  }
}

async function main(): Promise<number> {
  ensureBothBuilt(log);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  const prefix = `benchw:${randomBytes(4).toString('hex')}`;
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'lb-wbench-'));
  // mkdtemp makes 0700; the sandbox uid must traverse every folder above what is bound for it.
  await chmod(tempRoot, 0o755);
  const sharedDir = path.join(tempRoot, 'shared');
  await mkdir(sharedDir, { mode: 0o755 });
  await chmod(sharedDir, 0o755);
  const users = ['serial', 'profile', 'scored', ...SLOTS.map((slots) => `burst${slots}`)];
  const tokens = Object.fromEntries(users.map((user) => [user, `${user}-${randomBytes(12).toString('hex')}`]));
  const apiPort = await freePort();
  const mlflowPort = await freePort();

  const loadBefore = os.loadavg();
  log('# LeadersBoard worker benchmark: per-job platform overhead');
  log();
  log(`- date: ${new Date().toISOString()}`);
  log(`- machine: ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}), ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}`);
  log(`- load average before the run: ${loadBefore.map((each) => each.toFixed(2)).join(' ')} (other work on this machine shares its CPUs)`);
  log(`- node ${process.version}, redis ${redisVersion}, ${versionOf(PYTHON, ['--version'])} (${path.relative(ROOT, PYTHON)}), ${versionOf('bwrap', ['--version'])}, ${versionOf(path.join(ROOT, '.venv', 'bin', 'mlflow'), ['--version'])}`);
  log(`- job: examples/noop/main.py (parses --config/--output, exits 0); N = ${JOBS} measured runs each after ${WARMUP} warm-up runs; status polled every ${POLL_MS} ms`);
  log(`- Redis prefix ${prefix} (only these keys are deleted at the end), SHARED_DIR ${sharedDir} (0755)`);
  log();

  let mlflow: MlflowServer | undefined;
  let api: ApiProcess | undefined;
  let worker: WorkerProcess | undefined;
  let proxy: TimingProxy | undefined;
  let queue: Queue | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await worker?.stop().catch(() => undefined);
    await api?.stop().catch(() => undefined);
    await proxy?.stop().catch(() => undefined);
    await queue?.close().catch(() => undefined);
    await mlflow?.stop().catch(() => undefined);
    const deleted = await deleteKeys(redis, prefix);
    await redis.quit();
    await rm(tempRoot, { recursive: true, force: true });
    log(`cleanup: worker, API and MLflow (pid ${mlflow?.pid ?? '-'}, its process group) stopped, ${deleted} Redis keys under ${prefix}:* deleted, ${tempRoot} removed`);
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const mlflowStart = performance.now();
    mlflow = await MlflowServer.start(mlflowPort, path.join(tempRoot, 'mlflow-data'));
    log(`- throwaway MLflow (scripts/start-mlflow.sh, sqlite, 1 worker) at ${mlflow.uri}, up after ${fmt((performance.now() - mlflowStart) / 1000, 1)} s`);

    const baseEnv = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      SHARED_DIR: sharedDir,
      MLFLOW_TRACKING_URI: mlflow.uri,
      PYTHON_BIN: PYTHON,
      BENCHMARKS_DIR: path.join(ROOT, 'benchmarks'),
    };
    const workerEnv = (slots: number, trackingUri = mlflow!.uri) => ({ ...baseEnv, API_TOKENS: '', WORKER_CONCURRENCY: String(slots), MLFLOW_TRACKING_URI: trackingUri });
    const config = loadConfig(workerEnv(1), { requireTokens: false });
    const limits = { timeoutSeconds: config.jobTimeoutSeconds.small, memoryMb: config.jobMemoryMb.small, pidsMax: config.jobPidsMax };

    // ---- 1. bare python --------------------------------------------------------------------
    const bareDir = path.join(tempRoot, 'bare');
    const submissionDir = path.join(bareDir, 'submission');
    await mkdir(submissionDir, { recursive: true });
    await chmod(bareDir, 0o755);
    await chmod(submissionDir, 0o755);
    await copyFile(NOOP, path.join(submissionDir, 'main.py'));
    await chmod(path.join(submissionDir, 'main.py'), 0o644);
    const configPath = path.join(bareDir, 'config.yaml');
    await writeFile(configPath, '{}\n', { mode: 0o644 });
    const bareOut = path.join(bareDir, 'out-python');
    await mkdir(bareOut);

    const python: number[] = [];
    for (let i = 0; i < WARMUP + JOBS; i++) {
      const time = await timeProcess(PYTHON, [NOOP, '--config', configPath, '--output', bareOut], ROOT);
      if (i >= WARMUP) python.push(time);
    }
    const launcher: number[] = [];
    for (let i = 0; i < WARMUP + JOBS; i++) {
      const time = await timeProcess(PYTHON, ['-I', LAUNCHER, '--entrypoint=main.py', `--config=${configPath}`, `--output=${bareOut}`], submissionDir);
      if (i >= WARMUP) launcher.push(time);
    }

    // ---- 2. bare sandboxed -----------------------------------------------------------------
    const runner = createSandboxRunner(config);
    if (!(runner instanceof BubblewrapSandboxRunner)) throw new Error('createSandboxRunner did not build the bubblewrap runner (SANDBOX=none in the environment?)');
    const selfCheck = await runner.selfCheck();
    const phases = instrumentRunner(runner);
    const sandboxed: number[] = [];
    const sandboxPhases = new Steps();
    for (let i = 0; i < WARMUP + JOBS; i++) {
      const jobId = `bare-${i}-${randomBytes(3).toString('hex')}`;
      const outputDir = path.join(bareDir, 'out', jobId);
      await mkdir(outputDir, { recursive: true });
      const logPath = path.join(bareDir, `${jobId}.log`);
      await writeFile(logPath, '', { mode: 0o644 });
      const request: SandboxRequest = {
        jobId,
        submissionDir,
        outputDir,
        entrypoint: 'main.py',
        configPath,
        logPath,
        env: { MLFLOW_RUN_ID: 'bench', MLFLOW_EXPERIMENT_ID: '0' },
        limits,
      };
      phases.reset();
      const begin = performance.now();
      const outcome: SandboxOutcome = await runner.run(request, new AbortController().signal);
      const time = performance.now() - begin;
      if (outcome.kind !== 'succeeded') problems.push(`bare sandboxed run ${jobId}: ${JSON.stringify(outcome)}`);
      if (i >= WARMUP) {
        sandboxed.push(time);
        for (const [name, value] of Object.entries(phases.current)) sandboxPhases.add(name, value);
      }
    }

    // ---- 5 (a, b). scoring, bare and sandboxed, before the worker runs (it would share the scorer's slot dirs)
    const scoring = SCORES > 0 ? await measureScorer(config, bareDir) : undefined;

    // ---- 3. whole path ---------------------------------------------------------------------
    api = await ApiProcess.start(
      {
        ...baseEnv,
        PORT: String(apiPort),
        API_TOKENS: Object.entries(tokens)
          .map(([user, token]) => `${user}:${token}`)
          .join(','),
        RATE_LIMIT_JOBS_PER_HOUR: RAISED_LIMIT,
        RATE_LIMIT_CONCURRENT_JOBS: RAISED_LIMIT,
      },
      [],
    );
    const clients = Object.fromEntries(users.map((user) => [user, new Client(api!.url, tokens[user])]));
    const submissions: Record<string, string> = {};
    for (const user of users) submissions[user] = await clients[user].upload(NOOP);
    queue = new Queue(JOB_QUEUE_NAME, { connection: new Redis(REDIS_URL, { maxRetriesPerRequest: 2 }), prefix: bullPrefix(prefix) });
    queue.on('error', () => undefined);
    const bullQueue = queue;

    const startWorker = async (slots: number, trackingUri?: string) => {
      await worker?.stop();
      const begin = performance.now();
      worker = await WorkerProcess.start(workerEnv(slots, trackingUri));
      return performance.now() - begin;
    };
    const workerStartMs = await startWorker(1);
    log(`- API: node dist/apps/api/main.js on 127.0.0.1:${apiPort}; worker: node dist/apps/worker/main.js (WORKER_CONCURRENCY=1), ready in ${fmt(workerStartMs / 1000, 1)} s; sandbox: ${selfCheck}`);
    log(`- job limits (small class, as the worker reads them): ${limits.memoryMb} MB, ${limits.pidsMax} pids, ${limits.timeoutSeconds} s`);
    log(`- rate limits raised (RATE_LIMIT_JOBS_PER_HOUR=RATE_LIMIT_CONCURRENT_JOBS=${RAISED_LIMIT}); a new Idempotency-Key per POST`);
    log();

    const serial: JobTiming[] = [];
    for (let i = 0; i < WARMUP + JOBS; i++) {
      const timing = await oneJob(clients.serial, submissions.serial, bullQueue);
      if (i >= WARMUP) serial.push(timing);
    }

    // ---- 5 (c). the same copy job on the benchmark and off it, alternating -----------------
    const scoredJobs: JobTiming[] = [];
    const plainJobs: JobTiming[] = [];
    if (scoring) {
      const copyJob = path.join(bareDir, 'copy-job.py');
      await writeFile(copyJob, COPY_JOB);
      const copySubmission = await clients.scored.upload(copyJob, [{ filename: 'predictions.txt', body: readFileSync(path.join(scoring.predictionsDir, 'predictions.csv')) }]);
      for (let i = 0; i < WARMUP + SCORES; i++) {
        const scored = await oneJob(clients.scored, copySubmission, bullQueue, BENCHMARK_ID);
        const plain = await oneJob(clients.scored, copySubmission, bullQueue, null);
        if (i >= WARMUP) {
          scoredJobs.push(scored);
          plainJobs.push(plain);
        }
      }
      const board = await fetch(`${api.url}/benchmarks/${BENCHMARK_ID}/leaderboard?all=true`, { headers: { Authorization: `Bearer ${tokens.scored}` } });
      const total = board.status === 200 ? ((await board.json()) as { total: number }).total : NaN;
      if (total !== WARMUP + SCORES) problems.push(`5c: the board of ${BENCHMARK_ID} holds ${total} jobs (status ${board.status}), expected the ${WARMUP + SCORES} scored ones`);
    }

    // ---- 3b. profile: the same, with the worker's MLflow traffic through a timing proxy ------
    const profiled: { timing: JobTiming; calls: ProxiedCall[]; workerLines: number }[] = [];
    if (PROFILE) {
      proxy = await TimingProxy.start(await freePort(), mlflow.uri);
      await startWorker(1, proxy.uri);
      for (let i = 0; i < WARMUP + JOBS; i++) {
        const timing = await oneJob(clients.profile, submissions.profile, bullQueue);
        const calls = proxy.calls.filter((call) => call.start >= timing.sent && call.end <= timing.seen);
        const workerLines = worker!.lines.filter((line) => line.at >= timing.sent && line.at <= timing.seen).length;
        if (i >= WARMUP) profiled.push({ timing, calls, workerLines });
      }
    }

    // ---- 4. throughput ---------------------------------------------------------------------
    const bursts: { slots: number; toFinished: number; toSeen: number; runs: number[]; latency: number[]; queueWait: number[] }[] = [];
    for (const slots of SLOTS) {
      await startWorker(slots);
      const client = clients[`burst${slots}`];
      const submissionId = submissions[`burst${slots}`];
      // One uncounted job first: a fresh worker's first job pays for connections and JIT.
      await oneJob(client, submissionId, bullQueue);
      const t0 = unixNow();
      const ids = await Promise.all(Array.from({ length: BURST }, () => client.post(submissionId)));
      const wanted = new Set(ids);
      const done = new Map<string, StatusView>();
      const deadline = t0 + JOB_TIMEOUT_MS + BURST * 2000;
      while (done.size < wanted.size && unixNow() < deadline) {
        await sleep(50);
        for (let offset = 0; ; offset += 100) {
          const page = await client.list(offset);
          for (const job of page.jobs) if (wanted.has(job.job_id) && isFinal(job.status)) done.set(job.job_id, job);
          if (offset + 100 >= page.total) break;
        }
      }
      const seen = unixNow();
      const views = [...done.values()];
      for (const job of views) if (job.status !== 'completed') problems.push(`burst job ${job.job_id} (${slots} slots) ended ${job.status}: ${job.error_message}`);
      if (done.size < wanted.size) problems.push(`burst with ${slots} slot(s): ${wanted.size - done.size} of ${BURST} jobs not finished after ${fmt((seen - t0) / 1000, 0)} s`);
      const lastFinished = Math.max(...views.map((job) => ms(job.finished_at)));
      bursts.push({
        slots,
        toFinished: lastFinished - t0,
        toSeen: seen - t0,
        runs: views.map((job) => ms(job.finished_at) - ms(job.started_at)),
        latency: views.map((job) => ms(job.finished_at) - t0),
        queueWait: views.map((job) => ms(job.started_at) - ms(job.created_at)),
      });
    }

    for (const [name, process_] of [
      ['API', api],
      ['worker', worker],
    ] as const) {
      if (process_?.crashed) problems.push(`the ${name} exited during the run (${JSON.stringify(process_.exit)}):\n${process_.lastOutput()}`);
    }
    if (mlflow.exit) problems.push(`MLflow exited during the run (${JSON.stringify(mlflow.exit)}):\n${mlflow.tail()}`);

    // ---- report ----------------------------------------------------------------------------
    const dPython = dist(python);
    const dLauncher = dist(launcher);
    const dSandboxed = dist(sandboxed);
    const dWhole = dist(serial.map((job) => job.seen - job.sent));
    log('### Per job, one at a time (wall time)');
    log();
    log(
      table([
        ['measurement', ...DIST_HEAD.slice(1)],
        distRow('1. bare python noop/main.py', dPython),
        distRow('1b. bare python -I launcher.py -> main.py (no sandbox)', dLauncher),
        distRow('2. bare sandboxed: BubblewrapSandboxRunner.run()', dSandboxed),
        distRow(`3. whole path: POST /jobs -> completed seen (poll ${POLL_MS} ms)`, dWhole),
      ]),
    );
    log();
    const platform = { p50: dWhole.p50 - dSandboxed.p50, p95: dWhole.p95 - dSandboxed.p95 };
    const sandbox = { p50: dSandboxed.p50 - dPython.p50, p95: dSandboxed.p95 - dPython.p95 };
    log(
      table([
        ['overhead (difference of the percentiles)', 'P50 ms', 'P95 ms'],
        ['platform overhead = whole path - bare sandboxed', fmt(platform.p50, 1), fmt(platform.p95, 1)],
        ['sandbox overhead = bare sandboxed - bare python', fmt(sandbox.p50, 1), fmt(sandbox.p95, 1)],
        ['  of which the second interpreter (launcher.py) = 1b - 1', fmt(dLauncher.p50 - dPython.p50, 1), fmt(dLauncher.p95 - dPython.p95, 1)],
        ['  of which bwrap + prepare/cleanup = 2 - 1b', fmt(dSandboxed.p50 - dLauncher.p50, 1), fmt(dSandboxed.p95 - dLauncher.p95, 1)],
      ]),
    );
    log();
    const verdictLine = `${verdict(platform.p50 <= TARGET_MS)}  platform overhead P50 ${fmt(platform.p50, 1)} ms (target <= ${TARGET_MS} ms)`;
    log(`- ${verdictLine}`);
    log();

    log('### Inside BubblewrapSandboxRunner.run() (2; wrappers around its prepare/execute/cleanup, bench-side only)');
    log();
    log(
      table([
        ['phase', ...DIST_HEAD.slice(1)],
        ...[...sandboxPhases.rows].map(([name, values]) => distRow(PHASE_NAMES[name] ?? name, dist(values))),
      ]),
    );
    log();

    log('### Whole path split by the job\'s own timestamps (3; status record, BullMQ job, bench clock)');
    log();
    const pollAll = serial.flatMap((job) => job.pollMs);
    log(
      table([
        ['part', ...DIST_HEAD.slice(1)],
        distRow('POST /jobs answered (202)', dist(serial.map((job) => job.answered - job.sent))),
        distRow('queue wait: created_at -> started_at', dist(serial.map((job) => job.startedAt - job.createdAt))),
        distRow('  BullMQ: added -> picked up (timestamp -> processedOn)', dist(serial.map((job) => (job.bull?.processedOn ?? NaN) - (job.bull?.timestamp ?? NaN)))),
        distRow('  picked up -> status running (processedOn -> started_at)', dist(serial.map((job) => job.startedAt - (job.bull?.processedOn ?? NaN)))),
        distRow('run in the worker: started_at -> finished_at', dist(serial.map((job) => job.finishedAt - job.startedAt))),
        distRow('finished_at -> BullMQ finishedOn', dist(serial.map((job) => (job.bull?.finishedOn ?? NaN) - job.finishedAt))),
        distRow('finished_at -> completed seen by the poll', dist(serial.map((job) => job.seen - job.finishedAt))),
        distRow('one GET /jobs/{id}/status (every poll)', dist(pollAll)),
      ]),
    );
    log();
    log(`- polls per job: ${fmt(dist(serial.map((job) => job.polls)).mean, 1)} on average; timestamps in the status record have 1 ms resolution`);
    log();

    if (PROFILE) reportProfile(profiled, dSandboxed);

    if (scoring) reportScoring(scoring, plainJobs, scoredJobs);

    log('### Throughput: jobs posted at once (4)');
    log();
    log(
      table([
        ['slots', 'jobs', 'first POST -> last finished_at s', 'jobs/s', 'first POST -> all seen s', 'jobs/s (seen)', 'run P50 ms', 'queue wait P50 ms', 'job done P95 s'],
        ...bursts.map((burst) => [
          String(burst.slots),
          String(burst.runs.length),
          fmt(burst.toFinished / 1000),
          fmt(BURST / (burst.toFinished / 1000)),
          fmt(burst.toSeen / 1000),
          fmt(BURST / (burst.toSeen / 1000)),
          fmt(dist(burst.runs).p50, 0),
          fmt(dist(burst.queueWait).p50, 0),
          fmt(dist(burst.latency).p95 / 1000),
        ]),
      ]),
    );
    log();
    log(`- ${BURST} POST /jobs sent concurrently; completion polled with GET /jobs every 50 ms; run = started_at -> finished_at of each job`);
    log(`- load average after the run: ${os.loadavg().map((each) => each.toFixed(2)).join(' ')}`);
    log();
    log('### Verdict');
    log();
    log(`- ${verdictLine}`);
    log(`- whole path P50 ${fmt(dWhole.p50, 0)} ms = bare sandboxed P50 ${fmt(dSandboxed.p50, 0)} ms + platform ${fmt(platform.p50, 0)} ms; bare python P50 ${fmt(dPython.p50, 0)} ms, sandbox overhead P50 ${fmt(sandbox.p50, 0)} ms`);
    log(`- throughput: ${bursts.map((burst) => `${burst.slots} slot(s) ${fmt(BURST / (burst.toFinished / 1000))} jobs/s`).join(', ')}`);
    log();
  } finally {
    await cleanup();
  }

  return reportProblems(problems, log);
}

interface ScorerRuns {
  benchmark: Benchmark;
  predictionsDir: string;
  exampleMs: number;
  rows: number;
  bare: number[];
  sandboxed: number[];
  scores: string;
}

/** 5 (a) and (b): the benchmark's score.py on real predictions, bare and through the worker's own scorer. */
async function measureScorer(config: ReturnType<typeof loadConfig>, bareDir: string): Promise<ScorerRuns> {
  const listing = loadBenchmarkCatalog(config).get(BENCHMARK_ID);
  if (!listing?.available) throw new Error(`benchmark ${BENCHMARK_ID} in ${config.benchmarksDir}: ${listing ? listing.problem : 'no such folder'}`);
  const benchmark = listing.benchmark;
  const predictionsDir = path.join(bareDir, 'predictions');
  await mkdir(predictionsDir, { mode: 0o755 });
  await chmod(predictionsDir, 0o755);
  const exampleMs = makePredictions(PYTHON, benchmark.publicDir, predictionsDir);
  const rows = readFileSync(path.join(predictionsDir, 'predictions.csv'), 'utf8').trim().split('\n').length - 1;

  const bare: number[] = [];
  let scores = '';
  for (let i = 0; i < WARMUP + SCORES; i++) {
    const output = path.join(bareDir, `scores-bare-${i}`);
    await mkdir(output);
    const args = [benchmark.scorerPath, '--predictions', predictionsDir, '--reference', benchmark.referenceDir, '--output', output];
    const time = await timeProcess(PYTHON, args, path.dirname(benchmark.scorerPath));
    const read = readScores(output, benchmark.metric);
    if ('problem' in read) problems.push(`5a: bare scorer run ${i}: ${read.problem}`);
    else scores = JSON.stringify(read.scores);
    if (i >= WARMUP) bare.push(time);
  }

  const scorer = createScorer(config);
  const sandboxed: number[] = [];
  for (let i = 0; i < WARMUP + SCORES; i++) {
    const jobId = `score-${i}-${randomBytes(3).toString('hex')}`;
    const logPath = path.join(bareDir, `${jobId}.scorer.log`);
    const request = { jobId, scorerPath: benchmark.scorerPath, predictionsDir, referenceDir: benchmark.referenceDir, logPath, limits: benchmark.scorer };
    const begin = performance.now();
    const run = await scorer.score(request, new AbortController().signal);
    const time = performance.now() - begin;
    if (run.outcome.kind !== 'succeeded' || !run.scoresJson?.includes(`"${benchmark.metric}"`)) {
      problems.push(`5b: sandboxed scorer run ${jobId}: ${JSON.stringify(run.outcome)}, scores.json ${run.scoresJson ?? 'none'}; log: ${readFileSync(logPath, 'utf8').slice(-500)}`);
    }
    if (i >= WARMUP) sandboxed.push(time);
  }
  return { benchmark, predictionsDir, exampleMs, rows, bare, sandboxed, scores };
}

function reportScoring(runs: ScorerRuns, plain: JobTiming[], scored: JobTiming[]): void {
  const dBare = dist(runs.bare);
  const dSandboxed = dist(runs.sandboxed);
  const whole = (jobs: JobTiming[]) => dist(jobs.map((job) => job.seen - job.sent));
  const inWorker = (jobs: JobTiming[]) => dist(jobs.map((job) => job.finishedAt - job.startedAt));
  const [dPlain, dScored, dPlainRun, dScoredRun] = [whole(plain), whole(scored), inWorker(plain), inWorker(scored)];
  log(`### Scoring: ${runs.benchmark.id} (5; ${runs.rows} predictions from examples/anomaly-digits, made once in ${fmt(runs.exampleMs / 1000, 1)} s)`);
  log();
  log(
    table([
      ['measurement', ...DIST_HEAD.slice(1)],
      distRow('5a. bare scorer: python score.py --predictions --reference --output', dBare),
      distRow('5b. BubblewrapScorer.score(): staging copies, sandbox, scores.json', dSandboxed),
      distRow('5c. plain copy job ("benchmark": null): POST -> completed seen', dPlain),
      distRow(`5c. the same job on ${runs.benchmark.id}: POST -> completed seen`, dScored),
      distRow('5c. plain copy job: started_at -> finished_at', dPlainRun),
      distRow(`5c. the same job on ${runs.benchmark.id}: started_at -> finished_at`, dScoredRun),
    ]),
  );
  log();
  log(
    table([
      ['cost of scoring per job (difference of the percentiles)', 'P50 ms', 'P95 ms'],
      ['sandbox overhead of the scorer = 5b - 5a', fmt(dSandboxed.p50 - dBare.p50, 1), fmt(dSandboxed.p95 - dBare.p95, 1)],
      ['whole path: scored job - plain job (5c)', fmt(dScored.p50 - dPlain.p50, 1), fmt(dScored.p95 - dPlain.p95, 1)],
      ['in the worker: scored job - plain job (5c, started_at -> finished_at)', fmt(dScoredRun.p50 - dPlainRun.p50, 1), fmt(dScoredRun.p95 - dPlainRun.p95, 1)],
      ['  of which not the scorer = 5c in the worker - 5b', fmt(dScoredRun.p50 - dPlainRun.p50 - dSandboxed.p50, 1), fmt(dScoredRun.p95 - dPlainRun.p95 - dSandboxed.p95, 1)],
    ]),
  );
  log();
  log(`- scores of the example's predictions: ${runs.scores}`);
  log(`- scorer limits from benchmark.yaml: ${runs.benchmark.scorer.timeoutSeconds} s, ${runs.benchmark.scorer.memoryMb} MB; S = ${runs.bare.length} measured runs each after ${WARMUP} warm-up runs; 5c alternates scored and plain jobs`);
  log('- 5c\'s difference holds the /data staging of the job, the scorer run (5b), logging the leaderboard.* metrics to MLflow and recording the board');
  log();
}

const PHASE_NAMES: Record<string, string> = {
  prepare: 'prepare: job dir, /etc files, config copy, chown, relay socket, cgroup, log fd',
  execute: 'execute: sh -> prlimit -> setpriv -> bwrap -> launcher -> main.py, outcome',
  cleanup: 'cleanup: close log, remove cgroup, close relay, remove job dir',
};

/**
 * Times the runner's prepare / execute / job cleanup by wrapping the methods on this one instance
 * (bench code only: the product is not changed). Missing methods (a refactor) just skip the split.
 */
function instrumentRunner(runner: BubblewrapSandboxRunner): { current: Record<string, number>; reset(): void } {
  const state = { current: {} as Record<string, number>, reset: () => (state.current = {}) };
  const internals = runner as unknown as {
    prepare?: (...args: unknown[]) => Promise<{ cleanup: () => Promise<void> }>;
    execute?: (...args: unknown[]) => Promise<unknown>;
  };
  const prepare = internals.prepare?.bind(runner);
  const execute = internals.execute?.bind(runner);
  if (!prepare || !execute) return state;
  internals.prepare = async (...args) => {
    const begin = performance.now();
    const job = await prepare(...args);
    state.current.prepare = performance.now() - begin;
    const cleanup = job.cleanup;
    job.cleanup = async () => {
      const start = performance.now();
      await cleanup();
      state.current.cleanup = performance.now() - start;
    };
    return job;
  };
  internals.execute = async (...args) => {
    const begin = performance.now();
    try {
      return await execute(...args);
    } finally {
      state.current.execute = performance.now() - begin;
    }
  };
  return state;
}

/** Per-step timings of the profiled jobs: BullMQ and status timestamps, and each MLflow call seen by the proxy. */
function reportProfile(profiled: { timing: JobTiming; calls: ProxiedCall[]; workerLines: number }[], sandboxed: Dist): void {
  const steps = new Steps();
  const mlflowTotal: number[] = [];
  const mlflowCount: number[] = [];
  const sandboxWindow: number[] = [];
  for (const { timing, calls } of profiled) {
    steps.add('POST /jobs round trip (bench)', timing.answered - timing.sent);
    steps.add('API: created_at -> BullMQ add (timestamp)', (timing.bull?.timestamp ?? NaN) - timing.createdAt);
    steps.add('BullMQ pickup: added -> processedOn', (timing.bull?.processedOn ?? NaN) - (timing.bull?.timestamp ?? NaN));
    steps.add('worker: processedOn -> started_at (status get + update)', timing.startedAt - (timing.bull?.processedOn ?? NaN));
    const sorted = [...calls].sort((a, b) => a.start - b.start);
    let previous = timing.startedAt;
    let previousLabel = 'started_at';
    for (const call of sorted) {
      const label = callLabel(call);
      const gapLabel = `  gap: ${previousLabel} -> ${label}`;
      const gap = call.start - previous;
      if (previousLabel === 'MLflow runs/create' && label === 'MLflow runs/get') sandboxWindow.push(gap);
      steps.add(gapLabel, gap);
      steps.add(label, call.end - call.start);
      previous = call.end;
      previousLabel = label;
    }
    steps.add(`  gap: ${previousLabel} -> finished_at`, timing.finishedAt - previous);
    steps.add('finished_at -> BullMQ finishedOn', (timing.bull?.finishedOn ?? NaN) - timing.finishedAt);
    steps.add('finished_at -> completed seen by the poll', timing.seen - timing.finishedAt);
    steps.add('whole path (profiled, through the proxy)', timing.seen - timing.sent);
    mlflowTotal.push(sorted.reduce((sum, call) => sum + (call.end - call.start), 0));
    mlflowCount.push(sorted.length);
  }
  log('### Profile: where the time goes (3b; worker MLflow traffic through a timing proxy)');
  log();
  log(
    table([
      ['step (gaps are worker time between calls)', ...DIST_HEAD.slice(1)],
      ...[...steps.rows].map(([label, values]) => distRow(label, dist(values))),
      distRow(`MLflow calls per job: ${fmt(dist(mlflowCount).p50, 0)}, total time`, dist(mlflowTotal)),
    ]),
  );
  log();
  const window = dist(sandboxWindow);
  if (window.n > 0) {
    log(`- the gap runs/create -> runs/get holds status.update(run id), storage.prepareRun, the sandbox run and reading the log: P50 ${fmt(window.p50, 1)} ms, vs the bare sandboxed run P50 ${fmt(sandboxed.p50, 1)} ms`);
  }
  const lines = profiled.reduce((sum, each) => sum + each.workerLines, 0);
  log(`- worker log lines during the ${profiled.length} profiled jobs: ${lines} (the worker logs nothing per successful job, and Nest's log timestamps have 1 s resolution, so the proxy and the job's own timestamps are the clock here)`);
  log(`- proxy: a Node pass-through in the benchmark process; each call's time is from the proxy receiving the request to the answer passed back, so the worker -> proxy hop is not in it`);
  log();
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`benchmark failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
