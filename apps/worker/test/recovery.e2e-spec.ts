import { ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import request from 'supertest';
import { JobQueuePort } from '@app/domain';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { EXIT_3 } from './programs';
import { freePort, isFinished, runCode, RunningWorker, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real processes, real sandbox: runs take seconds, recovery tests tens of seconds.
jest.setTimeout(120_000);

/** A throwaway redis-server that keeps nothing on disk, so a restart loses every key. */
async function startRedis(port: number): Promise<ChildProcess> {
  const redis = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--bind', '127.0.0.1'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 50; attempt += 1) {
    if (await accepts(port)) return redis;
    await sleep(100);
  }
  throw new Error(`redis-server did not start on ${port}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopRedis(redis: ChildProcess): Promise<void> {
  if (redis.exitCode !== null) return;
  const exited = new Promise((resolve) => redis.once('exit', resolve));
  redis.kill('SIGKILL');
  await exited;
}

describe('recovery: Redis restarts and jobs the queue lost', () => {
  let port: number;
  let redis: ChildProcess;
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    api = await startApi({ REDIS_URL: `redis://127.0.0.1:${port}/0`, REAPER_INTERVAL_S: '1', REAPER_GRACE_S: '1' });
    worker = await startWorker(api);
  });
  afterAll(async () => {
    await stopWorker(worker);
    // Close the app once, while its Redis is up: closing it again would disconnect clients that already
    // ended, and ioredis then holds the process for 2 s.
    await api.close();
    await stopRedis(redis);
  });

  it('keeps consuming after Redis restarts', async () => {
    const before = await waitForJob(api, await runCode(api, { 'main.py': EXIT_3 }, {}, 'before-restart'), isFinished);
    expect(before.status).toBe('failed');
    await stopRedis(redis);
    await sleep(500);
    redis = await startRedis(port);
    let jobId: string | undefined;
    for (let attempt = 0; attempt < 50 && !jobId; attempt += 1) {
      jobId = await runCode(api, { 'main.py': EXIT_3 }, {}, 'after-restart').catch(() => undefined);
      if (!jobId) await sleep(200);
    }
    const after = await waitForJob(api, jobId!, isFinished, 60_000);
    expect(after.error_message).toContain('exit code 3');
  });

  it('re-queues a pending job that the queue lost, and it runs', async () => {
    await stopWorker(worker);
    const jobId = await runCode(api, { 'main.py': EXIT_3 }, {}, 'lost-from-queue');
    expect(await api.app.get(JobQueuePort).removePending(jobId)).toBe(true);
    worker = await startWorker(api);
    const job = await waitForJob(api, jobId, isFinished, 30_000);
    expect(job.error_message).toContain('exit code 3');
    expect(worker.output()).toContain(`re-queued jobs the queue had lost: ${jobId}`);
    await request(api.server).get(`/jobs/${jobId}/status`).set(auth('alice')).expect(200);
  });
});
