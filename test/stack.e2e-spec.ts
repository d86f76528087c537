import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import request from 'supertest';
import { acceptsConnections } from './redis';

/**
 * `npm run stack` (scripts/stack.sh) as an operator runs it: its own Redis on a free port, the shared
 * MLflow, dist/ as built (SKIP_BUILD=1). A worker killed with SIGKILL is restarted and jobs still
 * complete; a service that keeps crashing makes the stack give up, stop everything and exit 1;
 * SIGTERM stops every process it started.
 */
jest.setTimeout(180_000);

const repo = path.resolve(__dirname, '..');
const mlflow = process.env.MLFLOW_TRACKING_URI ?? 'http://127.0.0.1:5099';

interface Stack {
  child: ChildProcess;
  dir: string;
  port: number;
  redisPort: number;
  output: () => string;
  exited: Promise<number | null>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startStack(env: Record<string, string> = {}, port?: number): Promise<Stack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'stack-e2e-'));
  await chmod(dir, 0o755);
  const apiPort = port ?? (await freePort());
  const redisPort = await freePort();
  const child = spawn('bash', ['scripts/stack.sh'], {
    cwd: repo,
    env: {
      ...process.env,
      PORT: String(apiPort),
      REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      MLFLOW_TRACKING_URI: mlflow,
      SHARED_DIR: path.join(dir, 'data'),
      SKIP_BUILD: '1',
      STACK_READY_FILE: path.join(dir, 'ready'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, dir, port: apiPort, redisPort, output: () => text, exited };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, stack?: Stack): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms${stack ? `; stack said:\n${stack.output()}` : ''}`);
    await sleep(250);
  }
}

/** Running: a zombie (exited, not reaped yet by its parent or init) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Every pid the stack wrote down (services and their keepers), read while it runs. */
function pidFiles(stack: Stack): number[] {
  const run = path.join(stack.dir, 'data', 'stack-logs', 'run');
  return ['api', 'worker', 'mlflow']
    .flatMap((name) => [`${name}.pid`, `${name}.keeper`])
    .map((file) => path.join(run, file))
    .filter((file) => existsSync(file))
    .map((file) => Number(readFileSync(file, 'utf8')));
}

/** `pid command` of each live pid, for a readable failure. */
function commandLines(pids: number[]): string[] {
  return pids.map((pid) => `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
}

function servicePid(stack: Stack, name: string): number | undefined {
  const file = path.join(stack.dir, 'data', 'stack-logs', 'run', `${name}.pid`);
  return existsSync(file) ? Number(readFileSync(file, 'utf8')) : undefined;
}

describe('npm run stack supervises its services', () => {
  const stacks: Stack[] = [];

  afterAll(async () => {
    for (const stack of stacks) {
      if (stack.child.exitCode === null) stack.child.kill('SIGKILL');
      await rm(stack.dir, { recursive: true, force: true });
    }
  });

  it('restarts a worker killed with SIGKILL, runs jobs after it, and stops everything on SIGTERM', async () => {
    const stack = await startStack();
    stacks.push(stack);
    const ready = path.join(stack.dir, 'ready');
    await until('the stack was not ready', () => (existsSync(ready) ? true : undefined), 90_000, stack);
    const token = readFileSync(ready, 'utf8').trim();
    const api = `http://127.0.0.1:${stack.port}`;
    const started = pidFiles(stack);

    const killed = servicePid(stack, 'worker')!;
    process.kill(killed, 'SIGKILL');
    const restarted = await until(
      'the worker was not restarted',
      () => {
        const pid = servicePid(stack, 'worker');
        return pid !== undefined && pid !== killed && alive(pid) ? pid : undefined;
      },
      20_000,
      stack,
    );
    expect(stack.output()).toMatch(/\[worker\] \S+ worker exited with status 137 \(KILL\); restarting it in 1s \(exit 1 of 5 allowed within 60s\)/);
    // The new worker reports in, and takes a job to the end.
    await until(
      'the restarted worker did not report in',
      async () => {
        const health = await request(api).get('/healthz');
        return (health.body.workers ?? []).some((w: { id: string }) => w.id.endsWith(`:${restarted}`)) ? true : undefined;
      },
      60_000,
      stack,
    );
    const submission = await request(api)
      .post('/submissions')
      .set('Authorization', `Bearer ${token}`)
      .attach('files', Buffer.from('print("after the restart")\n'), 'main.py')
      .expect(201);
    const job = await request(api)
      .post('/jobs')
      .set('Authorization', `Bearer ${token}`)
      .send({ submission_id: submission.body.submission_id })
      .expect(202);
    const status = await until(
      'the job did not finish',
      async () => {
        const { body } = await request(api).get(`/jobs/${job.body.job_id}/status`).set('Authorization', `Bearer ${token}`);
        return ['completed', 'failed', 'cancelled'].includes(body.status) ? body.status : undefined;
      },
      60_000,
      stack,
    );
    expect(status).toBe('completed');

    const running = [...started, ...pidFiles(stack)];
    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    expect(stack.output()).toContain('stack: stopped');
    expect(commandLines(running.filter(alive))).toEqual([]);
    await expect(request(api).get('/healthz')).rejects.toThrow();
    // The Redis it started is stopped too.
    expect(stack.output()).toContain(`starting redis on port ${stack.redisPort}`);
    await expect(acceptsConnections(stack.redisPort)).resolves.toBe(false);
  });

  it('gives up on a service that keeps crashing, stops the rest and exits 1 saying why', async () => {
    // Something else holds the API's port: every start of the API fails at once.
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as { port: number };
    try {
      const stack = await startStack({ STACK_MAX_CRASHES: '3' }, port);
      stacks.push(stack);
      const seen = new Set<number>();
      let done = false;
      const watch = (async () => {
        while (!done) {
          for (const pid of pidFiles(stack)) seen.add(pid);
          await sleep(100);
        }
      })();
      const code = await stack.exited;
      done = true;
      await watch;
      expect(code).toBe(1);
      const output = stack.output();
      expect(output).toMatch(/\[api\] \S+ api exited with status 1; restarting it in 1s \(exit 1 of 3 allowed within 60s\)/);
      expect(output).toMatch(/\[api\] \S+ api exited with status 1; restarting it in 2s \(exit 2 of 3 allowed within 60s\)/);
      expect(output).toMatch(/\[api\] \S+ api exited with status 1, 3 exits within 60s; giving up: stopping the stack/);
      expect(output).toContain('stack: a service kept crashing or could not start');
      expect(seen.size).toBeGreaterThan(0);
      expect(commandLines([...seen].filter(alive))).toEqual([]);
      expect(existsSync(path.join(stack.dir, 'ready'))).toBe(false);
    } finally {
      squatter.close();
    }
  });
});
