/**
 * `npm run bench:api`: throughput, latency and upload memory of the real API, next to bare
 * BullMQ / ioredis baselines. A benchmark, not a test: it prints tables and PASS/MISS against the
 * targets, and exits non-zero only when the API crashed or a scenario saw errors.
 *
 * Settings (environment):
 *   BENCH_DURATION_S (10)            seconds per loaded scenario
 *   BENCH_CONNECTIONS (100)          requests in flight for POST /jobs, GET status and the bare baselines
 *   BENCH_UPLOAD_CONNECTIONS (100,10) in-flight counts for the 1 MB uploads, one run each
 *   BENCH_SERIAL_S (3)               seconds per one-in-flight run (0 skips them)
 *   BENCH_MEMORY_MB (100)            size of the memory-test upload
 *   BENCH_API_NODE_ARGS              extra node flags for the API, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 *   BENCH_API_MAIN                   another API bundle to run instead of dist/apps/api/main.js
 *   BENCH_ONLY                       subset of memory,jobs,status,submissions,leaderboard,followers,bare
 *   BENCH_FOLLOW_S (5)               seconds the simulated chatty job writes its log per followers round
 *   BENCH_FOLLOWERS (1,50)           follower counts of the followers scenario, one round each
 *   BENCH_BOARD_JOBS (10000)         scored jobs seeded on the board for the leaderboard scenario
 *   BENCH_BOARD_USERS (1000)         users those jobs are spread over
 *   BENCH_BENCHMARK (digits-anomaly) benchmark of the repository's benchmarks/ whose board is seeded
 *   REDIS_URL                        default redis://127.0.0.1:6379/0
 */
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { API_MAIN, ApiProcess, ensureBuilt, freePort, readMemory, resetPeak, ROOT } from './lib/api-process';
import { boardEntries, seedBoard } from './lib/board-seed';
import { cpuLine, cpuSnapshot } from './lib/cpu';
import { followersScenario } from './lib/followers';
import { closedLoop, httpLoad, LoadResult } from './lib/load';
import { multipartBody, MULTIPART_TYPE, pythonFile, streamUpload } from './lib/multipart';
import { drift, fmt, mb, Sample, summarize, Summary, table, verdict } from './lib/stats';
import { reportProblems } from './lib/report';

const MB = 2 ** 20;
const int = (name: string, fallback: number) => {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0, got "${raw}"`);
  return value;
};

const DURATION_S = int('BENCH_DURATION_S', 10);
const CONNECTIONS = int('BENCH_CONNECTIONS', 100);
const UPLOAD_CONNECTIONS = (process.env.BENCH_UPLOAD_CONNECTIONS ?? '100,10')
  .split(',')
  .map((each) => Number(each.trim()))
  .filter((each) => Number.isInteger(each) && each > 0);
const SERIAL_S = int('BENCH_SERIAL_S', 3);
const MEMORY_MB = int('BENCH_MEMORY_MB', 100);
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379/0';
const NODE_ARGS = (process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'memory,jobs,status,submissions,leaderboard,followers,bare').split(',').map((each) => each.trim()));
const RAISED_LIMIT = '1000000000';
const BOARD_JOBS = int('BENCH_BOARD_JOBS', 10_000);
const BOARD_USERS = Math.max(1, int('BENCH_BOARD_USERS', 1000));
const BENCHMARK_ID = process.env.BENCH_BENCHMARK?.trim() || 'digits-anomaly';
const BENCHMARKS_DIR = path.join(ROOT, 'benchmarks');
const FOLLOW_S = int('BENCH_FOLLOW_S', 5);
const FOLLOWERS = (process.env.BENCH_FOLLOWERS ?? '1,50')
  .split(',')
  .map((each) => Number(each.trim()))
  .filter((each) => Number.isInteger(each) && each > 0);

const TARGETS = { submissions: 500, jobs: 100, status: 200 } as const;
/** The leaderboard's goal is at one request in flight, strictly under. */
const BOARD_TARGET_MS = 20;
const STRETCH_MS = 10;
const MEMORY_GROWTH_LIMIT = 64 * MB;

const log = (line = '') => console.log(line);

interface Run {
  label: string;
  inFlight: number;
  summary: Summary;
  samples: Sample[];
  non2xx: number;
  errors: number;
  note?: string;
  cpu?: string;
}

const problems: string[] = [];

function runFromLoad(label: string, inFlight: number, load: LoadResult, note?: string): Run {
  const summary = summarize(
    load.samples.map((sample) => sample.latency),
    load.seconds,
  );
  // Requests/s counts successful responses only.
  summary.perSecond = load.ok / load.seconds;
  const errors = load.errors + load.timeouts;
  if (load.non2xx > 0 || errors > 0) {
    problems.push(`${label} (${inFlight} in flight): ${load.non2xx} non-2xx, ${errors} errors/timeouts; status codes ${JSON.stringify(load.statusCodes)}`);
  }
  return { label, inFlight, summary, samples: load.samples, non2xx: load.non2xx, errors, note };
}

function scenarioTable(title: string, runs: Run[], target?: number, stretch?: boolean): void {
  log(`### ${title}`);
  log();
  log(
    table([
      ['in flight', 'requests', 'req/s', 'P50 ms', 'P95 ms', 'P99 ms', 'max ms', 'non-2xx', 'errors'],
      ...runs.map((run) => [
        String(run.inFlight),
        String(run.summary.count),
        fmt(run.summary.perSecond, 0),
        fmt(run.summary.p50),
        fmt(run.summary.p95),
        fmt(run.summary.p99),
        fmt(run.summary.max),
        String(run.non2xx),
        String(run.errors),
      ]),
    ]),
  );
  log();
  for (const run of runs) {
    if (target !== undefined) log(`- ${targetLine(run.label, run, target, '<=')}`);
    if (stretch) log(`- ${targetLine(run.label, run, STRETCH_MS, '<')}`);
  }
  for (const run of runs.filter((each) => each.inFlight > 1)) {
    log(`- over time at ${run.inFlight} in flight (5 slices): ${drift(run.samples, run.summary.seconds)}`);
  }
  for (const run of runs) if (run.note) log(`- ${run.note}`);
  for (const run of runs) if (run.cpu) log(`- ${run.inFlight} in flight: ${run.cpu}`);
  log();
}

function targetLine(label: string, run: Run, limit: number, comparison: '<=' | '<'): string {
  const ok = comparison === '<=' ? run.summary.p95 <= limit : run.summary.p95 < limit;
  const kind = limit === STRETCH_MS ? 'stretch goal' : 'seed target';
  return `${verdict(ok)}  ${label}: P95 ${fmt(run.summary.p95)} ms at ${run.inFlight} in flight (${kind} P95 ${comparison} ${limit} ms)`;
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

async function writeBigFile(file: string, bytes: number): Promise<void> {
  const chunk = Buffer.from('0123456789abcdef'.repeat(4095) + '0123456789abcde\n');
  const out = createWriteStream(file);
  for (let written = 0; written < bytes; written += chunk.length) {
    const slice = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    if (!out.write(slice)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function main(): Promise<number> {
  ensureBuilt(log);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'lb-bench-'));
  const sharedDir = path.join(tempRoot, 'shared');
  await mkdir(path.join(tempRoot, 'files'), { recursive: true });
  const tokens = { bench: `bench-${randomBytes(12).toString('hex')}`, serial: `serial-${randomBytes(12).toString('hex')}` };
  const port = await freePort();

  log('# LeadersBoard API benchmark');
  log();
  log(`- date: ${new Date().toISOString()}`);
  log(`- machine: ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}), ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}`);
  log(`- load average before the run: ${os.loadavg().map((each) => each.toFixed(2)).join(' ')} (other work on this machine shares its CPUs)`);
  log(`- node ${process.version}, redis ${redisVersion} at ${REDIS_URL.replace(/\/\/[^@]*@/, '//***@')}`);
  log(`- API: node ${path.relative(process.cwd(), API_MAIN)} ${NODE_ARGS.join(' ')}(child process, NODE_ENV=production) on 127.0.0.1:${port}`);
  log(`- load: autocannon in this process, ${CONNECTIONS} connections, ${DURATION_S} s per scenario (BENCH_DURATION_S); 1 MB uploads at ${UPLOAD_CONNECTIONS.join(' and ')} connections`);
  log(`- Redis prefix ${prefix} (only these keys are deleted at the end), SHARED_DIR ${sharedDir}`);
  log(`- rate limits raised for the benchmark: RATE_LIMIT_JOBS_PER_HOUR=${RAISED_LIMIT} RATE_LIMIT_CONCURRENT_JOBS=${RAISED_LIMIT}, so it measures the path, not 429s`);
  log(`- MAX_FILE_MB=150 so the ${MEMORY_MB} MB memory-test upload is accepted`);
  log(`- BENCHMARKS_DIR=${path.relative(process.cwd(), BENCHMARKS_DIR) || '.'}; the leaderboard scenario seeds ${BOARD_JOBS} scored jobs of ${BOARD_USERS} users on ${BENCHMARK_ID}'s board under the prefix`);
  log();

  let api: ApiProcess | undefined;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await api?.stop();
    const deleted = await deleteKeys(redis, prefix);
    await redis.quit();
    await rm(tempRoot, { recursive: true, force: true });
    log(`cleanup: API stopped, ${deleted} Redis keys under ${prefix}:* deleted, ${tempRoot} removed`);
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  try {
    api = await ApiProcess.start(
      {
        PORT: String(port),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        SHARED_DIR: sharedDir,
        API_TOKENS: `bench:${tokens.bench},serial:${tokens.serial}`,
        RATE_LIMIT_JOBS_PER_HOUR: RAISED_LIMIT,
        RATE_LIMIT_CONCURRENT_JOBS: RAISED_LIMIT,
        MAX_FILE_MB: '150',
        // The load comes from one user over up to 100 connections: the upload caps would turn it into 429s.
        MAX_CONCURRENT_UPLOADS_PER_USER: RAISED_LIMIT,
        MAX_CONCURRENT_UPLOADS: RAISED_LIMIT,
        MLFLOW_TRACKING_URI: process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5010',
        BENCHMARKS_DIR,
      },
      NODE_ARGS,
    );
    const started = api;
    const auth = (user: keyof typeof tokens) => ({ Authorization: `Bearer ${tokens[user]}` });

    // Setup (also the warm-up): one small submission per user, one job whose status is polled.
    const smallBody = multipartBody([{ name: 'files', filename: 'main.py', body: pythonFile(1024) }]);
    const submissionOf = async (user: keyof typeof tokens) => {
      const response = await fetch(`${started.url}/submissions`, {
        method: 'POST',
        headers: { ...auth(user), 'Content-Type': MULTIPART_TYPE },
        body: smallBody,
      });
      if (response.status !== 201) throw new Error(`setup upload answered ${response.status}: ${await response.text()}`);
      return ((await response.json()) as { submission_id: string }).submission_id;
    };
    const submissions = { bench: await submissionOf('bench'), serial: await submissionOf('serial') };
    const jobResponse = await fetch(`${started.url}/jobs`, {
      method: 'POST',
      headers: { ...auth('bench'), 'Content-Type': 'application/json', 'Idempotency-Key': 'status-target' },
      body: JSON.stringify({ submission_id: submissions.bench }),
    });
    if (jobResponse.status !== 202) throw new Error(`setup POST /jobs answered ${jobResponse.status}: ${await jobResponse.text()}`);
    const statusJobId = ((await jobResponse.json()) as { job_id: string }).job_id;
    for (let i = 0; i < 200; i++) await fetch(`${started.url}/jobs/${statusJobId}/status`, { headers: auth('bench') }).then((r) => r.arrayBuffer());

    // Memory: one large upload, RSS sampled every 50 ms.
    let memoryLine: string | undefined;
    if (ONLY.has('memory')) {
      const bigFile = path.join(tempRoot, 'files', 'weights.txt');
      await writeBigFile(bigFile, MEMORY_MB * MB);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const baseline = readMemory(started.pid).rss;
      const peakReset = resetPeak(started.pid);
      let peakSampled = baseline;
      let samples = 0;
      const sampler = setInterval(() => {
        try {
          peakSampled = Math.max(peakSampled, readMemory(started.pid).rss);
          samples++;
        } catch {
          // the process is gone; the crash check reports it
        }
      }, 50);
      const upload = await streamUpload(
        `${started.url}/submissions`,
        auth('bench'),
        [{ name: 'files', filename: 'main.py', body: pythonFile(1024) }],
        { name: 'files', filename: 'weights.txt', path: bigFile },
      );
      clearInterval(sampler);
      const after = readMemory(started.pid);
      const peak = peakReset ? Math.max(peakSampled, after.hwm) : peakSampled;
      const growth = peak - baseline;
      const memoryOk = upload.status === 201;
      if (!memoryOk) problems.push(`memory-test upload answered ${upload.status}: ${upload.body.slice(0, 300)}`);
      await rm(bigFile, { force: true });
      log(`### Memory: one ${MEMORY_MB} MB upload (POST /submissions, streamed from a file)`);
      log();
      log(
        table([
          ['status', 'upload s', 'MB/s', 'RSS samples', 'baseline RSS', 'peak RSS', 'growth', 'after RSS'],
          [
            String(upload.status),
            fmt(upload.ms / 1000),
            fmt(MEMORY_MB / (upload.ms / 1000), 0),
            String(samples),
            mb(baseline),
            mb(peak),
            mb(growth),
            mb(after.rss),
          ],
        ]),
      );
      log();
      log(`- peak = max(RSS sampled every 50 ms, VmHWM${peakReset ? ' reset just before the upload' : ' (could not reset: sampled peak only)'})`);
      memoryLine = `${verdict(memoryOk && growth <= MEMORY_GROWTH_LIMIT)}  ${MEMORY_MB} MB upload: API RSS growth ${mb(growth)} (baseline ${mb(baseline)}, peak ${mb(peak)}; target <= 64 MB)`;
      log(`- target RSS growth <= 64 MB: ${verdict(memoryOk && growth <= MEMORY_GROWTH_LIMIT)} (${mb(growth)})`);
      log();
    }

    const withCpu = async (work: () => Promise<Run>): Promise<Run> => {
      const before = await cpuSnapshot(redis, started.pid);
      const run = await work();
      run.cpu = cpuLine(before, await cpuSnapshot(redis, started.pid));
      return run;
    };

    const results: Partial<Record<'jobs' | 'status' | 'submissions', Run[]>> = {};

    // (a) POST /jobs: a new Idempotency-Key per request, so every request creates a job.
    if (ONLY.has('jobs')) {
      const jobsLoad = async (user: keyof typeof tokens, inFlight: number, seconds: number) => {
        let counter = 0;
        let replayed = 0;
        const load = await httpLoad({
          url: started.url,
          connections: inFlight,
          seconds,
          headers: { ...auth(user), 'content-type': 'application/json' },
          request: {
            method: 'POST',
            path: '/jobs',
            body: JSON.stringify({ submission_id: submissions[user] }),
            setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `k-${inFlight}-${counter++}` } }),
            onResponse: (_status, _body, _context, headers) => {
              if (headers?.['idempotent-replayed'] ?? headers?.['Idempotent-Replayed']) replayed++;
            },
          },
        });
        const created = await redis.zcard(`${prefix}:user:${user}:jobs`);
        // Requests still in flight when autocannon stops create jobs whose answers it does not count.
        const counted = load.ok - replayed + (user === 'bench' ? 1 : 0);
        if (replayed > 0) problems.push(`POST /jobs: ${replayed} responses were idempotent replays, not new jobs`);
        if (created < counted || created > counted + inFlight) {
          problems.push(`POST /jobs: Redis holds ${created} jobs for ${user}, expected ${counted} to ${counted + inFlight}`);
        }
        return runFromLoad(
          'POST /jobs',
          inFlight,
          load,
          `${inFlight} in flight: ${load.ok} answers 202, ${replayed} replays; Redis holds ${created} jobs for user ${user} (setup and requests cut off at the end included)`,
        );
      };
      results.jobs = [await withCpu(() => jobsLoad('bench', CONNECTIONS, DURATION_S))];
      if (SERIAL_S > 0) results.jobs.push(await withCpu(() => jobsLoad('serial', 1, SERIAL_S)));
      scenarioTable('POST /jobs (a new job per request)', results.jobs, TARGETS.jobs, true);
    }

    // (b) GET /jobs/{id}/status of one existing job.
    if (ONLY.has('status')) {
      const statusLoad = async (inFlight: number, seconds: number) =>
        runFromLoad(
          'GET /jobs/{id}/status',
          inFlight,
          await httpLoad({ url: started.url, connections: inFlight, seconds, headers: auth('bench'), request: { method: 'GET', path: `/jobs/${statusJobId}/status` } }),
        );
      results.status = [await withCpu(() => statusLoad(CONNECTIONS, DURATION_S))];
      if (SERIAL_S > 0) results.status.push(await withCpu(() => statusLoad(1, SERIAL_S)));
      scenarioTable('GET /jobs/{id}/status (one existing job)', results.status, TARGETS.status, true);
    }

    // (c) POST /submissions with a 1 MB file, body built once.
    if (ONLY.has('submissions')) {
      const body = multipartBody([{ name: 'files', filename: 'main.py', body: pythonFile(MB) }]);
      const uploadLoad = async (inFlight: number, seconds: number) =>
        runFromLoad(
          'POST /submissions 1 MB',
          inFlight,
          await httpLoad({
            url: started.url,
            connections: inFlight,
            seconds,
            headers: { ...auth('bench'), 'content-type': MULTIPART_TYPE },
            request: { method: 'POST', path: '/submissions', body },
          }),
        );
      results.submissions = [];
      for (const inFlight of UPLOAD_CONNECTIONS) results.submissions.push(await withCpu(() => uploadLoad(inFlight, DURATION_S)));
      if (SERIAL_S > 0) results.submissions.push(await withCpu(() => uploadLoad(1, SERIAL_S)));
      scenarioTable(`POST /submissions (one 1 MB main.py, ${body.length} byte body)`, results.submissions, TARGETS.submissions);
    }

    // (d) GET /benchmarks/{id}/leaderboard on a seeded board, next to GET status in the same run.
    let boardLine: string | undefined;
    if (ONLY.has('leaderboard')) boardLine = await leaderboardScenario(redis, prefix, started, auth('bench'), statusJobId, withCpu);

    // (e) Live log followers of one chatty job.
    let followersLine: string | undefined;
    if (ONLY.has('followers')) {
      const settings = { seconds: FOLLOW_S, counts: FOLLOWERS, linesPerSecond: 500 };
      followersLine = await followersScenario(redis, prefix, started, auth('bench'), submissions.bench, path.join(sharedDir, 'logs'), settings, problems, log);
    }

    // Bare baselines at the same concurrency, from this process, on their own keys.
    const bare: Partial<Record<'add' | 'hgetall', Run[]>> = {};
    if (ONLY.has('bare')) {
      const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 3000 });
      const queue = new Queue('jobs', { connection, prefix: `${prefix}:barebull` });
      queue.on('error', () => undefined);
      const payload = { submission_id: submissions.bench, entrypoint: 'main.py', config_file: null, config: {}, resource_class: 'small' };
      const addRun = async (inFlight: number, seconds: number) => {
        const tag = randomBytes(3).toString('hex');
        const loop = await closedLoop(inFlight, seconds, (sequence) =>
          queue.add('run', { job_id: `${tag}-${sequence}`, ...payload }, {
            jobId: `${tag}-${sequence}`,
            removeOnComplete: { age: 86400, count: 1000 },
            removeOnFail: { age: 7 * 86400 },
          }),
        );
        return toRun('bare queue.add', inFlight, loop);
      };
      bare.add = [await withCpu(() => addRun(CONNECTIONS, DURATION_S))];
      if (SERIAL_S > 0) bare.add.push(await withCpu(() => addRun(1, SERIAL_S)));
      await queue.obliterate({ force: true });
      await queue.close();
      await connection.quit();

      // HGETALL of one hash shaped like a real job record, on one connection as the API uses.
      const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 2, connectTimeout: 3000 });
      const hashKey = `${prefix}:bare:hash`;
      const fields = await client.hgetall(`${prefix}:job:${statusJobId}`);
      await client.hset(hashKey, fields);
      const hgetallRun = async (inFlight: number, seconds: number) => toRun('bare HGETALL', inFlight, await closedLoop(inFlight, seconds, () => client.hgetall(hashKey)));
      bare.hgetall = [await withCpu(() => hgetallRun(CONNECTIONS, DURATION_S))];
      if (SERIAL_S > 0) bare.hgetall.push(await withCpu(() => hgetallRun(1, SERIAL_S)));
      await client.quit();

      log('### Bare baselines (this process, same in-flight count, own keys)');
      log();
      log(
        table([
          ['operation', 'in flight', 'ops', 'ops/s', 'P50 ms', 'P95 ms', 'P99 ms', 'max ms', 'errors'],
          ...[...bare.add, ...bare.hgetall].map((run) => [
            run.label,
            String(run.inFlight),
            String(run.summary.count),
            fmt(run.summary.perSecond, 0),
            fmt(run.summary.p50),
            fmt(run.summary.p95),
            fmt(run.summary.p99),
            fmt(run.summary.max),
            String(run.errors),
          ]),
        ]),
      );
      log();
      for (const run of [...bare.add, ...bare.hgetall]) log(`- ${run.label}, ${run.inFlight} in flight: ${run.cpu}`);
      log();

      const pairs: [string, Run[] | undefined, Run[]][] = [
        ['POST /jobs vs queue.add', results.jobs, bare.add],
        ['GET status vs HGETALL', results.status, bare.hgetall],
      ];
      const rows = [['ours / bare', 'in flight', 'P50 x', 'P95 x', 'P99 x', 'throughput x (bare/ours)']];
      for (const [label, ours, base] of pairs) {
        if (!ours) continue;
        for (const run of ours) {
          const match = base.find((each) => each.inFlight === run.inFlight);
          if (!match) continue;
          rows.push([
            label,
            String(run.inFlight),
            fmt(run.summary.p50 / match.summary.p50, 1),
            fmt(run.summary.p95 / match.summary.p95, 1),
            fmt(run.summary.p99 / match.summary.p99, 1),
            fmt(match.summary.perSecond / run.summary.perSecond, 1),
          ]);
        }
      }
      if (rows.length > 1) {
        log('### Ratios: our endpoint / bare operation');
        log();
        log(table(rows));
        log();
      }
    }

    if (started.crashed) problems.push(`the API exited during the run (${JSON.stringify(started.exit)}):\n${started.lastOutput()}`);

    log('### Targets');
    log();
    const targetLines: string[] = [];
    for (const [name, label, target] of [
      ['submissions', 'POST /submissions 1 MB', TARGETS.submissions],
      ['jobs', 'POST /jobs', TARGETS.jobs],
      ['status', 'GET /jobs/{id}/status', TARGETS.status],
    ] as const) {
      for (const run of results[name] ?? []) {
        if (run.inFlight === 1) continue;
        targetLines.push(targetLine(label, run, target, '<='));
        if (name !== 'submissions') targetLines.push(targetLine(label, run, STRETCH_MS, '<'));
      }
    }
    targetLines.push(boardLine ?? '(leaderboard scenario skipped)');
    targetLines.push(followersLine ?? '(followers scenario skipped)');
    targetLines.push(memoryLine ?? '(memory test skipped)');
    for (const line of targetLines) log(`- ${line}`);
    log();
  } finally {
    await cleanup();
  }

  return reportProblems(problems, log);
}

/**
 * Seeds BOARD_JOBS scored jobs of BOARD_USERS users on a benchmark's board through the real
 * RedisLeaderboardAdapter (under the API's prefix), then loads the board's first page (best per
 * user) and GET status at the same in-flight counts, back to back. Returns the target line.
 */
async function leaderboardScenario(
  redis: Redis,
  prefix: string,
  api: ApiProcess,
  headers: Record<string, string>,
  statusJobId: string,
  withCpu: (work: () => Promise<Run>) => Promise<Run>,
): Promise<string> {
  const label = 'GET /benchmarks/{id}/leaderboard';
  const listed = (await (await fetch(`${api.url}/benchmarks`, { headers })).json()) as {
    benchmarks: { id: string; available: boolean; problem: string | null; metric: string; order: 'asc' | 'desc'; secondary: string[] }[];
  };
  const benchmark = listed.benchmarks.find((each) => each.id === BENCHMARK_ID);
  if (!benchmark?.available) {
    problems.push(`leaderboard: benchmark ${BENCHMARK_ID} is ${benchmark ? `unavailable (${benchmark.problem})` : 'not listed'} by the API (BENCHMARKS_DIR=${BENCHMARKS_DIR})`);
    return `MISS  ${label}: not measured, the benchmark is not available`;
  }
  const entries = boardEntries(BENCHMARK_ID, benchmark.metric, benchmark.secondary, BOARD_JOBS, BOARD_USERS);
  const seed = await seedBoard(redis, prefix, benchmark.order, entries, 32);
  if (seed.counts.jobs !== BOARD_JOBS || seed.counts.users !== Math.min(BOARD_USERS, BOARD_JOBS)) {
    problems.push(`leaderboard: the seeded board holds ${seed.counts.jobs} jobs of ${seed.counts.users} users, expected ${BOARD_JOBS} of ${BOARD_USERS}`);
  }

  // What one answer of each kind holds, checked once before the load.
  const board = `/benchmarks/${BENCHMARK_ID}/leaderboard`;
  const paths = { best: board, all: `${board}?all=true`, csv: `${board}?format=csv&limit=1000`, status: `/jobs/${statusJobId}/status` };
  const sizes: Record<string, number> = {};
  for (const [name, pathname] of Object.entries(paths)) {
    const response = await fetch(`${api.url}${pathname}`, { headers });
    const text = await response.text();
    sizes[name] = Buffer.byteLength(text);
    if (response.status !== 200) {
      problems.push(`leaderboard: GET ${pathname} answered ${response.status}: ${text.slice(0, 300)}`);
      continue;
    }
    if (name === 'best' || name === 'all') {
      const page = JSON.parse(text) as { total: number; rows: { rank: number; score: number }[] };
      const total = name === 'best' ? seed.counts.users : seed.counts.jobs;
      const sign = benchmark.order === 'desc' ? -1 : 1;
      const ordered = page.rows.every((row, index) => index === 0 || sign * (row.score - page.rows[index - 1].score) >= 0);
      if (page.total !== total || page.rows.length !== Math.min(50, total) || !ordered) {
        problems.push(`leaderboard: GET ${pathname} gave total ${page.total} (expected ${total}), ${page.rows.length} rows, ${ordered ? 'in' : 'NOT in'} rank order`);
      }
    }
    if (name === 'csv' && text.trim().split('\n').length !== Math.min(1000, seed.counts.users) + 1) {
      problems.push(`leaderboard: the CSV export has ${text.trim().split('\n').length} lines, expected a header and ${Math.min(1000, seed.counts.users)} rows`);
    }
  }

  const load = async (name: keyof typeof paths, runLabel: string, inFlight: number, seconds: number) =>
    withCpu(async () =>
      runFromLoad(runLabel, inFlight, await httpLoad({ url: api.url, connections: inFlight, seconds, headers, request: { method: 'GET', path: paths[name] } })),
    );
  const inFlights = SERIAL_S > 0 ? [CONNECTIONS, 1] : [CONNECTIONS];
  const pairs: { board: Run; status: Run }[] = [];
  for (const inFlight of inFlights) {
    const seconds = inFlight === 1 ? SERIAL_S : DURATION_S;
    pairs.push({ board: await load('best', label, inFlight, seconds), status: await load('status', 'GET /jobs/{id}/status', inFlight, seconds) });
  }
  const extras = SERIAL_S > 0 ? [await load('all', `${label}?all=true`, 1, SERIAL_S), await load('csv', `${label}?format=csv&limit=1000`, 1, SERIAL_S)] : [];

  log(`### Leaderboard: ${BENCHMARK_ID}, ${seed.counts.jobs} scored jobs of ${seed.counts.users} users`);
  log();
  log(
    `- seeded through RedisLeaderboardAdapter.record(), once per job, 32 in flight from this process (the worker's path): ` +
      `${fmt(seed.recordMs / 1000)} s (${fmt(BOARD_JOBS / (seed.recordMs / 1000), 0)} records/s); ` +
      `then replace() with the same ${BOARD_JOBS} entries (the admin rebuild's write, build beside + swap): ${fmt(seed.replaceMs / 1000)} s`,
  );
  log(
    `- one answer: first page of 50 best-per-user ${sizes.best} bytes JSON; ?all=true ${sizes.all} bytes; CSV of 1,000 rows ${sizes.csv} bytes; GET status ${sizes.status} bytes`,
  );
  log();
  const runs = [...pairs.flatMap((pair) => [pair.board, pair.status]), ...extras];
  log(
    table([
      ['path', 'in flight', 'requests', 'req/s', 'P50 ms', 'P95 ms', 'P99 ms', 'max ms', 'non-2xx', 'errors'],
      ...runs.map((run) => [
        run.label,
        String(run.inFlight),
        String(run.summary.count),
        fmt(run.summary.perSecond, 0),
        fmt(run.summary.p50),
        fmt(run.summary.p95),
        fmt(run.summary.p99),
        fmt(run.summary.max),
        String(run.non2xx),
        String(run.errors),
      ]),
    ]),
  );
  log();
  log(
    table([
      ['leaderboard / status', 'in flight', 'P50 x', 'P95 x', 'P99 x', 'req/s x (status/leaderboard)'],
      ...pairs.map(({ board: b, status: s }) => [
        'first page of 50',
        String(b.inFlight),
        fmt(b.summary.p50 / s.summary.p50, 1),
        fmt(b.summary.p95 / s.summary.p95, 1),
        fmt(b.summary.p99 / s.summary.p99, 1),
        fmt(s.summary.perSecond / b.summary.perSecond, 1),
      ]),
    ]),
  );
  log();
  for (const run of runs.filter((each) => each.inFlight > 1)) log(`- ${run.label} over time at ${run.inFlight} in flight (5 slices): ${drift(run.samples, run.summary.seconds)}`);
  for (const run of runs) log(`- ${run.label}, ${run.inFlight} in flight: ${run.cpu}`);
  const serial = pairs.find((pair) => pair.board.inFlight === 1)?.board;
  const line = serial
    ? `${verdict(serial.summary.p95 < BOARD_TARGET_MS)}  ${label}: P95 ${fmt(serial.summary.p95)} ms at 1 in flight (goal P95 < ${BOARD_TARGET_MS} ms)`
    : `${label}: not measured at 1 in flight (BENCH_SERIAL_S=0)`;
  log(`- ${line}`);
  log();
  return line;
}

function toRun(label: string, inFlight: number, loop: Awaited<ReturnType<typeof closedLoop>>): Run {
  if (loop.errors > 0) problems.push(`${label} (${inFlight} in flight): ${loop.errors} errors, first: ${loop.firstError}`);
  return {
    label,
    inFlight,
    summary: summarize(
      loop.samples.map((sample) => sample.latency),
      loop.seconds,
    ),
    samples: loop.samples,
    non2xx: 0,
    errors: loop.errors,
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`benchmark failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
