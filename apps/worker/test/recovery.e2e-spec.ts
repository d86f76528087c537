import { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { JobQueuePort } from '@app/domain';
import { startRedisServer, stopRedisServer } from '../../../test/redis';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { EXIT_3 } from './programs';
import { freePort, isFinished, runCode, RunningWorker, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

// Real processes, real sandbox: runs take seconds, recovery tests tens of seconds.
jest.setTimeout(120_000);

describe('recovery: Redis restarts and jobs the queue lost', () => {
  let port: number;
  let redis: ChildProcess;
  let api: RunningApi;
  let worker: RunningWorker;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedisServer(port);
    api = await startApi({ REDIS_URL: `redis://127.0.0.1:${port}/0`, REAPER_INTERVAL_S: '1', REAPER_GRACE_S: '1' });
    worker = await startWorker(api);
  });
  afterAll(async () => {
    await stopWorker(worker);
    // Close the app once, while its Redis is up: closing it again would disconnect clients that already
    // ended, and ioredis then holds the process for 2 s.
    await api.close();
    await stopRedisServer(redis, 'SIGKILL');
  });

  it('keeps consuming after Redis restarts', async () => {
    const before = await waitForJob(api, await runCode(api, { 'main.py': EXIT_3 }, {}, 'before-restart'), isFinished);
    expect(before.status).toBe('failed');
    await stopRedisServer(redis, 'SIGKILL');
    await sleep(500);
    redis = await startRedisServer(port);
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
