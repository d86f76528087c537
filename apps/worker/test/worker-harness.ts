import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi } from '../../api/test/harness';

const WORKER_MAIN = path.resolve(__dirname, '../../../dist/apps/worker/main.js');

export interface RunningWorker {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
}

/**
 * NODE_V8_COVERAGE for a built app started as a child process, when the run collects coverage (npm test sets
 * CHILD_V8_COVERAGE; not NODE_V8_COVERAGE itself, which would make jest and every tool write coverage too).
 */
export function childCoverageEnv(): Record<string, string> {
  return process.env.CHILD_V8_COVERAGE ? { NODE_V8_COVERAGE: process.env.CHILD_V8_COVERAGE } : {};
}

/** An fd the worker inherits without close-on-exec, as from the shell that started a stack. */
export const INHERITED_FD = 251;

/** Starts the built worker (dist/) as a real process sharing the API's Redis prefix and SHARED_DIR. */
export async function startWorker(api: RunningApi, env: Record<string, string> = {}, options: { inheritedFd?: boolean } = {}): Promise<RunningWorker> {
  const stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
  if (options.inheritedFd) while (stdio.length <= INHERITED_FD) stdio.push(stdio.length === INHERITED_FD ? 'pipe' : 'ignore');
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...(process.env.VENV_DIR ? { PYTHON_BIN: path.join(process.env.VENV_DIR, 'bin', 'python') } : {}),
      ...api.env,
      API_TOKENS: '',
      ...childCoverageEnv(),
      ...env,
    },
    stdio,
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const deadline = Date.now() + 30_000;
  while (!output.includes('consuming with')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${output}`);
    await sleep(100);
  }
  return { process: child, output: () => output, exited };
}

export async function stopWorker(worker: RunningWorker, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill(signal);
  return worker.exited;
}

/** Uploads files as alice's submission and queues a job; returns the job id. */
export async function runCode(api: RunningApi, files: Record<string, string>, body: Record<string, unknown> = {}, key?: string): Promise<string> {
  let upload = request(api.server).post('/submissions').set(auth('alice'));
  for (const [name, content] of Object.entries(files)) upload = upload.attach('files', Buffer.from(content), name);
  const submission = await upload.expect(201);
  let post = request(api.server).post('/jobs').set(auth('alice'));
  if (key) post = post.set('Idempotency-Key', key);
  const job = await post.send({ submission_id: submission.body.submission_id, ...body }).expect(202);
  return job.body.job_id;
}

export interface JobView {
  job_id: string;
  status: string;
  run_id: string | null;
  error_message: string | null;
}

export async function jobStatus(api: RunningApi, jobId: string, user: 'alice' | 'bob' = 'alice'): Promise<JobView> {
  return (await request(api.server).get(`/jobs/${jobId}/status`).set(auth(user)).expect(200)).body;
}

/** Polls the status route until `done` holds; fails with the last status seen. */
export async function waitForJob(
  api: RunningApi,
  jobId: string,
  done: (job: JobView) => boolean,
  timeoutMs = 60_000,
  user: 'alice' | 'bob' = 'alice',
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  let job = await jobStatus(api, jobId, user);
  while (!done(job)) {
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job.status} (${job.error_message}) after ${timeoutMs} ms`);
    await sleep(200);
    job = await jobStatus(api, jobId, user);
  }
  return job;
}

export const isFinished = (job: JobView) => ['completed', 'failed', 'cancelled'].includes(job.status);

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
