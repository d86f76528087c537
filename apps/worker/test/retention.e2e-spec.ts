import Redis from 'ioredis';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { auth, RunningApi, startApi } from '../../api/test/harness';
import { isFinished, runCode, sleep, startWorker, stopWorker, waitForJob } from './worker-harness';

jest.setTimeout(120_000);

/** JOB_RETENTION_DAYS small enough to watch: the record's TTL is ceil(0.00005 days) = 5 s. */
const RETENTION = { JOB_RETENTION_DAYS: '0.00005' };

function filesOf(api: RunningApi, jobId: string): string[] {
  return [path.join(api.config.artifactRoot, jobId), path.join(api.config.logRoot, `${jobId}.log`), path.join(api.config.logRoot, `${jobId}.config.yaml`)];
}

describe('retention: the reaper removes a job\'s host files once its record expired', () => {
  let api: RunningApi;
  let redis: Redis;

  beforeAll(async () => {
    api = await startApi(RETENTION);
    redis = new Redis(api.config.redisUrl);
  });
  afterAll(async () => {
    await redis.quit();
    await api.close();
  });

  it('removes the output, log and config of the expired job, keeps those of a job whose record lives', async () => {
    const first = await startWorker(api);
    const expired = await runCode(api, { 'main.py': 'open("/output/result.txt", "w").write("r")\nprint("done")\n' });
    const kept = await runCode(api, { 'main.py': 'print("kept")\n' });
    expect((await waitForJob(api, expired, isFinished)).status).toBe('completed');
    expect((await waitForJob(api, kept, isFinished)).status).toBe('completed');
    await stopWorker(first);
    // The same age on disk, but this record is made to outlive the TTL.
    await redis.persist(`${api.config.redisPrefix}:job:${kept}`);
    for (const file of [...filesOf(api, expired), ...filesOf(api, kept)]) expect(existsSync(file)).toBe(true);
    expect(existsSync(path.join(api.config.artifactRoot, expired, 'result.txt'))).toBe(true);

    // The record expires with its TTL; the files are older than the retention by then.
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await request(api.server).get(`/jobs/${expired}/status`).set(auth('alice'))).status === 404) break;
      await sleep(200);
    }
    expect((await request(api.server).get(`/jobs/${expired}/status`).set(auth('alice'))).status).toBe(404);
    await sleep(1000);

    // A worker sweeps at start (then hourly).
    const second = await startWorker(api);
    try {
      for (let attempt = 0; attempt < 50 && existsSync(filesOf(api, expired)[0]); attempt++) await sleep(100);
      expect(filesOf(api, expired).filter((file) => existsSync(file))).toEqual([]);
      expect(filesOf(api, kept).filter((file) => existsSync(file))).toEqual(filesOf(api, kept));
      expect(second.output()).toContain(`removed the host files of 1 job(s) whose record expired: ${expired}`);
    } finally {
      await stopWorker(second);
    }
  });
});
