import * as os from 'node:os';
import * as path from 'node:path';
import { BENCHMARK_ID } from '@app/domain';
import { SCORER_UID_OFFSET } from '../sandbox/bubblewrap-scorer.adapter';
import { ConfigError } from './config-error';
import { Env, readChoice, readInt, readList, readPositiveNumber, readString, readUrl } from './env-readers';
import { LogLevel, readObservabilitySettings } from './observability-settings';
import { readJobCapSettings } from './job-cap-settings';

export interface ApiToken {
  userId: string;
  token: string;
}

/** Every setting, read and checked once at start; the class is also its DI token. */
export class AppConfig {
  readonly port!: number;
  readonly redisUrl!: string;
  /** Prefix of every Redis key we own: `{prefix}:job:{id}`; BullMQ keys use `{prefix}:bull`. */
  readonly redisPrefix!: string;
  readonly mlflowTrackingUri!: string;
  readonly mlflowPublicUri!: string;
  readonly experimentName!: string;
  readonly apiTokens!: ApiToken[];
  readonly adminUsers!: string[];
  readonly sharedDir!: string;
  readonly uploadRoot!: string;
  readonly artifactRoot!: string;
  readonly logRoot!: string;
  readonly jobTimeoutSeconds!: { small: number; medium: number };
  readonly jobMemoryMb!: { small: number; medium: number };
  readonly jobPidsMax!: number;
  /** JOB_OUTPUT_MB_*: /output (and /tmp) per resource class. */
  readonly jobOutputMb!: { small: number; medium: number };
  /** JOB_CPUS_*: CPU quota in cores per resource class. */
  readonly jobCpus!: { small: number; medium: number };
  /** JOB_LOG_MB: what one run may leave in its log. */
  readonly jobLogMb!: number;
  readonly workerConcurrency!: number;
  readonly workerGpus!: string[];
  /** BENCHMARKS_DIR: one folder per benchmark. */
  readonly benchmarksDir!: string;
  /** True when BENCHMARKS_DIR was set: then it must exist. The default may be absent (no benchmarks). */
  readonly benchmarksDirRequired!: boolean;
  /** DEFAULT_BENCHMARK: what a job that names none is scored on; null: such jobs are plain experiments. */
  readonly defaultBenchmark!: string | null;
  readonly rateLimit!: { jobsPerHour: number; concurrentJobs: number };
  /** Failed logins allowed per client address and window before 429 (Bearer and Basic alike). */
  readonly authThrottle!: { failuresPerWindow: number; windowSeconds: number };
  /** Behind a reverse proxy: the client is the last X-Forwarded-For hop (the one the proxy added). */
  readonly trustProxy!: boolean;
  readonly maxFileBytes!: number;
  readonly maxFilesPerSubmission!: number;
  /** Plain files and unpacked archives of one submission together. */
  readonly maxSubmissionBytes!: number;
  /** Submissions with archives unpacking at once in one API process; more get 429. */
  readonly maxConcurrentUnpacks!: number;
  /** Uploads in progress at once, per user and per API process; more get 429. */
  readonly concurrentUploads!: { perUser: number; total: number };
  /** An upload body that sends nothing this long is cut and its temp files removed. */
  readonly uploadIdleTimeoutSeconds!: number;
  /** Node's HTTP server timeouts: headers, whole request (body included), idle keep-alive. */
  readonly httpTimeoutsSeconds!: { headers: number; request: number; keepAlive: number };
  readonly maxArchiveEntries!: number;
  /** 'bwrap' (default) or 'none': running user code unsandboxed is an explicit, loud opt-in. */
  readonly sandbox!: 'bwrap' | 'none';
  /** Worker slot N runs its jobs as uid and gid sandboxUidBase + N (when the worker is root). */
  readonly sandboxUidBase!: number;
  /** Python of the job runtime (the project venv by default). */
  readonly pythonBin!: string;
  /** Scratch space of the worker: relay sockets and per-run files that are not results. */
  readonly workerWorkDir!: string;
  /** A worker that stops renewing its lock this long is presumed dead; its job is re-run. */
  readonly jobStallSeconds!: number;
  readonly reaperIntervalSeconds!: number;
  readonly reaperGraceSeconds!: number;
  /** METRICS_TOKEN: a Bearer token that may read /metrics (API and workers); null: only admins (API). */
  readonly metricsToken!: string | null;
  /** WORKER_METRICS_PORT: where each worker serves its own /metrics; null: workers serve none. */
  readonly workerMetricsPort!: number | null;
  /** LOG_FORMAT: JSON lines (default) or pretty, for a person at a terminal. */
  readonly logFormat!: 'json' | 'pretty';
  readonly logLevel!: LogLevel;
  /** JOB_RETENTION_DAYS: the job record's TTL; the reaper then removes the job's files on the host. */
  readonly jobRetentionDays!: number;
  /** INFRA_RETRY_WINDOW_S: how long Redis or MLflow may keep a job from starting before it fails. */
  readonly infraRetryWindowSeconds!: number;
}

const MB = 2 ** 20;

export function loadConfig(env: Env, options: { requireTokens: boolean }): AppConfig {
  const sharedDir = path.resolve(readString(env, 'SHARED_DIR', './data'));
  const mlflowTrackingUri = readUrl(env, 'MLFLOW_TRACKING_URI', 'http://127.0.0.1:5010', ['http:', 'https:']);
  const hostMemoryMb = Math.floor(os.totalmem() / MB);
  const workerGpus = readList(env, 'WORKER_GPUS');
  const maxFileMb = readInt(env, 'MAX_FILE_MB', 100);
  return Object.assign(new AppConfig(), {
    port: readInt(env, 'PORT', 8010),
    redisUrl: readUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']),
    redisPrefix: readString(env, 'REDIS_PREFIX', 'leaderboard'),
    mlflowTrackingUri,
    mlflowPublicUri: readUrl(env, 'MLFLOW_PUBLIC_URI', mlflowTrackingUri, ['http:', 'https:']),
    experimentName: readString(env, 'LEADERBOARD_EXPERIMENT', 'leaderboard'),
    apiTokens: readTokens(env, options.requireTokens),
    adminUsers: readList(env, 'ADMIN_USERS'),
    sharedDir,
    uploadRoot: path.resolve(readString(env, 'UPLOAD_ROOT', path.join(sharedDir, 'submissions'))),
    artifactRoot: path.resolve(readString(env, 'ARTIFACT_ROOT', path.join(sharedDir, 'artifacts'))),
    logRoot: path.resolve(readString(env, 'LOG_ROOT', path.join(sharedDir, 'logs'))),
    jobTimeoutSeconds: {
      small: readInt(env, 'JOB_TIMEOUT_SMALL_S', 1800),
      medium: readInt(env, 'JOB_TIMEOUT_MEDIUM_S', 3600),
    },
    jobMemoryMb: {
      small: readInt(env, 'JOB_MEMORY_SMALL_MB', Math.max(512, Math.floor(hostMemoryMb / 4))),
      medium: readInt(env, 'JOB_MEMORY_MEDIUM_MB', Math.max(1024, Math.floor(hostMemoryMb / 2))),
    },
    jobPidsMax: readInt(env, 'JOB_PIDS_MAX', 256),
    ...readJobCapSettings(env),
    workerConcurrency: readConcurrency(env, workerGpus),
    workerGpus,
    ...readBenchmarkSettings(env),
    rateLimit: {
      jobsPerHour: readInt(env, 'RATE_LIMIT_JOBS_PER_HOUR', 10),
      concurrentJobs: readInt(env, 'RATE_LIMIT_CONCURRENT_JOBS', 3),
    },
    authThrottle: {
      failuresPerWindow: readInt(env, 'AUTH_FAILURES_PER_WINDOW', 20),
      windowSeconds: readInt(env, 'AUTH_FAILURE_WINDOW_S', 300),
    },
    trustProxy: readChoice(env, 'TRUST_PROXY', 'false', ['false', 'true'] as const) === 'true',
    maxFileBytes: maxFileMb * MB,
    maxFilesPerSubmission: readInt(env, 'MAX_FILES_PER_SUBMISSION', 100),
    maxSubmissionBytes: readSubmissionMb(env) * MB,
    maxConcurrentUnpacks: readInt(env, 'MAX_CONCURRENT_UNPACKS', 4),
    concurrentUploads: {
      perUser: readInt(env, 'MAX_CONCURRENT_UPLOADS_PER_USER', 4),
      total: readInt(env, 'MAX_CONCURRENT_UPLOADS', 64),
    },
    uploadIdleTimeoutSeconds: readInt(env, 'UPLOAD_IDLE_TIMEOUT_S', 30),
    httpTimeoutsSeconds: readHttpTimeouts(env),
    maxArchiveEntries: readInt(env, 'MAX_ARCHIVE_ENTRIES', 10000),
    sandbox: readChoice(env, 'SANDBOX', 'bwrap', ['bwrap', 'none'] as const),
    sandboxUidBase: readUidBase(env, readConcurrency(env, workerGpus)),
    pythonBin: path.resolve(readString(env, 'PYTHON_BIN', '.venv/bin/python')),
    workerWorkDir: path.resolve(readString(env, 'WORKER_WORK_DIR', path.join(sharedDir, 'run'))),
    jobStallSeconds: readInt(env, 'JOB_STALL_S', 15, 2),
    reaperIntervalSeconds: readInt(env, 'REAPER_INTERVAL_S', 30),
    reaperGraceSeconds: readInt(env, 'REAPER_GRACE_S', 120),
    ...readObservabilitySettings(env),
    jobRetentionDays: readPositiveNumber(env, 'JOB_RETENTION_DAYS', 90),
    infraRetryWindowSeconds: readInt(env, 'INFRA_RETRY_WINDOW_S', 600),
  });
}

/** Ranking is per benchmark now (benchmark.yaml); the old global settings are refused loudly. */
function readBenchmarkSettings(env: Env): Pick<AppConfig, 'benchmarksDir' | 'benchmarksDirRequired' | 'defaultBenchmark'> {
  for (const name of ['LEADERBOARD_METRIC', 'LEADERBOARD_ORDER']) {
    if (env[name]?.trim()) throw new ConfigError(`${name} is no longer used: each benchmark names its metric and order in its benchmark.yaml; remove it`);
  }
  const defaultBenchmark = env.DEFAULT_BENCHMARK?.trim() || null;
  if (defaultBenchmark !== null && !BENCHMARK_ID.test(defaultBenchmark)) {
    throw new ConfigError(`DEFAULT_BENCHMARK must be a benchmark id (lowercase letters, digits and dashes, 1 to 64), got "${defaultBenchmark}"`);
  }
  return {
    benchmarksDir: path.resolve(readString(env, 'BENCHMARKS_DIR', './benchmarks')),
    benchmarksDirRequired: Boolean(env.BENCHMARKS_DIR?.trim()),
    defaultBenchmark,
  };
}

/** One cap for everything a submission holds; the older archive-only setting is refused loudly. */
function readSubmissionMb(env: Env): number {
  if (env.MAX_UNPACKED_MB?.trim()) {
    throw new ConfigError('MAX_UNPACKED_MB was replaced by MAX_SUBMISSION_MB (plain files and unpacked archives together); rename it');
  }
  return readInt(env, 'MAX_SUBMISSION_MB', 1024);
}

function readHttpTimeouts(env: Env): { headers: number; request: number; keepAlive: number } {
  const headers = readInt(env, 'HTTP_HEADERS_TIMEOUT_S', 20);
  const request = readInt(env, 'HTTP_REQUEST_TIMEOUT_S', 600);
  if (headers > request) throw new ConfigError(`HTTP_HEADERS_TIMEOUT_S (${headers}) must not exceed HTTP_REQUEST_TIMEOUT_S (${request})`);
  return { headers, request, keepAlive: readInt(env, 'HTTP_KEEPALIVE_TIMEOUT_S', 5) };
}

/** A uid range of its own per worker slot, clear of system uids, nobody (65534) and the 32-bit edge. */
function readUidBase(env: Env, slots: number): number {
  for (const old of ['SANDBOX_UID', 'SANDBOX_GID']) {
    if (env[old]?.trim()) throw new ConfigError(`${old} was replaced by SANDBOX_UID_BASE (slot N runs as uid and gid base+N); rename it`);
  }
  const base = readInt(env, 'SANDBOX_UID_BASE', 200000, 1000);
  // Jobs run as base+slot, scorers as base+SCORER_UID_OFFSET+slot: the two ranges must not meet.
  if (slots > SCORER_UID_OFFSET) {
    throw new ConfigError(`WORKER_CONCURRENCY (${slots}) must be at most ${SCORER_UID_OFFSET}: job and scorer uids would overlap`);
  }
  const last = base + SCORER_UID_OFFSET + slots - 1;
  const hitsNobody = (from: number) => from <= 65534 && from + slots - 1 >= 65534;
  if (last > 2 ** 31 - 2 || hitsNobody(base) || hitsNobody(base + SCORER_UID_OFFSET)) {
    throw new ConfigError(
      `SANDBOX_UID_BASE (${base}) + ${slots} slots (jobs) and + ${SCORER_UID_OFFSET} + ${slots} slots (scorers) must stay below 2147483647 and not include 65534 (nobody)`,
    );
  }
  return base;
}

/** One GPU per slot: more slots than GPUs would make two runs share a card. */
function readConcurrency(env: Env, gpus: string[]): number {
  const concurrency = readInt(env, 'WORKER_CONCURRENCY', Math.max(1, gpus.length));
  if (gpus.length > 0 && concurrency > gpus.length) {
    throw new ConfigError(`WORKER_CONCURRENCY (${concurrency}) exceeds the ${gpus.length} GPUs in WORKER_GPUS; each slot needs its own GPU`);
  }
  return concurrency;
}

function readTokens(env: Env, required: boolean): ApiToken[] {
  const pairs = readList(env, 'API_TOKENS');
  if (pairs.length === 0) {
    if (required) throw new ConfigError('API_TOKENS is required: set it to user:token pairs, e.g. API_TOKENS=alice:s3cr3t,bob:t0ken');
    return [];
  }
  const tokens = pairs.map((pair) => {
    const separator = pair.indexOf(':');
    const userId = pair.slice(0, separator).trim();
    const token = pair.slice(separator + 1).trim();
    if (separator < 1 || !token) throw new ConfigError(`API_TOKENS entry "${pair}" must look like user:token`);
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(userId)) {
      throw new ConfigError(`API_TOKENS user "${userId}" may only use letters, digits and _ . @ -`);
    }
    if (token.length < 8) throw new ConfigError(`API_TOKENS token for "${userId}" is shorter than 8 characters`);
    // What a client can put in an Authorization header; any other token could never be sent.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new ConfigError(`API_TOKENS token for "${userId}" may only use visible ASCII characters (no spaces)`);
    }
    return { userId, token };
  });
  const seen = new Set<string>();
  for (const { token, userId } of tokens) {
    if (seen.has(token)) throw new ConfigError(`API_TOKENS gives the same token twice (second time for "${userId}")`);
    seen.add(token);
  }
  return tokens;
}
