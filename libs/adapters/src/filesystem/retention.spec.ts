import Redis from 'ioredis';
import { existsSync } from 'node:fs';
import { lutimes, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PurgeExpiredRuns } from '@app/domain';
import { deleteKeys, endUnreachable, testRedisUrl, uniquePrefix } from '../../../../test/redis';
import { createRedisClient } from '../redis/redis-client';
import { RedisJobStatusAdapter, retentionSeconds } from '../redis/redis-job-status.adapter';
import { SystemClockAdapter } from '../system/system-clock.adapter';
import { FilesystemRunFiles } from './filesystem-run-files.adapter';

/**
 * Retention against the real pieces: job records in Redis with the JOB_RETENTION_DAYS TTL, the
 * job files on disk (mtimes set with utimes), and a Redis that stops answering.
 */
const DAY_MS = 24 * 3600 * 1000;
const newJob = (jobId: string) => ({
  jobId,
  submissionId: 's1',
  userId: 'alice',
  entrypoint: 'main.py',
  configFile: null,
  config: {},
  resourceClass: 'small' as const,
  benchmark: null,
  createdAt: new Date().toISOString(),
});

describe('job retention (real Redis, real files)', () => {
  const prefix = uniquePrefix('retention');
  let redis: Redis;
  let root: string;
  let artifactRoot: string;
  let logRoot: string;
  let files: FilesystemRunFiles;

  beforeAll(() => {
    redis = createRedisClient(testRedisUrl());
  });
  afterAll(async () => {
    await deleteKeys(redis, prefix);
    await redis.quit();
  });
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'retention-'));
    artifactRoot = path.join(root, 'artifacts');
    logRoot = path.join(root, 'logs');
    await mkdir(artifactRoot);
    await mkdir(logRoot);
    files = new FilesystemRunFiles({ artifactRoot, logRoot });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  /** A finished run's files, all last modified `ageDays` ago. */
  async function runFiles(jobId: string, ageDays: number): Promise<void> {
    const output = path.join(artifactRoot, jobId);
    await mkdir(path.join(output, 'model'), { recursive: true });
    await writeFile(path.join(output, 'model', 'weights.bin'), 'w');
    const made = [path.join(output, 'model', 'weights.bin'), path.join(output, 'model'), output];
    for (const suffix of ['.log', '.scorer.log', '.config.yaml']) {
      await writeFile(path.join(logRoot, `${jobId}${suffix}`), 'x');
      made.push(path.join(logRoot, `${jobId}${suffix}`));
    }
    const when = new Date(Date.now() - ageDays * DAY_MS);
    for (const file of made) await utimes(file, when, when);
  }

  it('sets the record TTL from JOB_RETENTION_DAYS, fractions included', async () => {
    expect(retentionSeconds(90)).toBe(90 * 24 * 3600);
    expect(retentionSeconds(0.5)).toBe(12 * 3600);
    expect(retentionSeconds(0.000001)).toBe(1);
    const adapter = new RedisJobStatusAdapter(redis, prefix, retentionSeconds(2));
    await adapter.create(newJob('ttl'), { jobsPerHour: 5, concurrentJobs: 5 }, Date.now());
    const ttl = await redis.ttl(`${prefix}:job:ttl`);
    expect(ttl).toBeGreaterThan(2 * 24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(2 * 24 * 3600);
  });

  it('removes the files of a job whose record expired once they are older than the retention; keeps the rest', async () => {
    const status = new RedisJobStatusAdapter(redis, prefix, retentionSeconds(1));
    // A record that is still there (a job re-run, or one whose TTL was renewed): its files stay whatever their age.
    await status.create(newJob('recorded'), { jobsPerHour: 50, concurrentJobs: 50 }, Date.now());
    await runFiles('recorded', 5);
    // No record, old files: expired.
    await runFiles('expired', 5);
    // No record, files within the retention period (a record that expired early is not enough).
    await runFiles('recent', 0.5);
    // Outside the job shapes: a job id with a dot, a stray file, and a link to a folder outside the roots.
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    await writeFile(path.join(outside, 'keep.txt'), 'precious');
    await symlink(outside, path.join(artifactRoot, 'linked'));
    await lutimes(path.join(artifactRoot, 'linked'), new Date(Date.now() - 5 * DAY_MS), new Date(Date.now() - 5 * DAY_MS));
    await utimes(path.join(outside, 'keep.txt'), new Date(0), new Date(0));
    await writeFile(path.join(logRoot, 'notes.txt'), 'operator notes');
    await mkdir(path.join(artifactRoot, 'has.dot'));

    const purge = new PurgeExpiredRuns(status, files, new SystemClockAdapter(), 1 * DAY_MS);
    const removed = await purge.execute();

    expect(removed.sort()).toEqual(['expired', 'linked'].sort());
    expect((await readdir(artifactRoot)).sort()).toEqual(['has.dot', 'recent', 'recorded']);
    expect((await readdir(logRoot)).sort()).toEqual(
      ['notes.txt', ...['recent', 'recorded'].flatMap((id) => [`${id}.config.yaml`, `${id}.log`, `${id}.scorer.log`])].sort(),
    );
    // The link went as a link: what it pointed to is untouched.
    expect(existsSync(path.join(outside, 'keep.txt'))).toBe(true);
  });

  it('removes nothing while Redis does not answer: an outage never reads as "expired"', async () => {
    await runFiles('expired', 5);
    const unreachable = createRedisClient('redis://127.0.0.1:1/0');
    try {
      const purge = new PurgeExpiredRuns(new RedisJobStatusAdapter(unreachable, prefix), files, new SystemClockAdapter(), DAY_MS);
      await expect(purge.execute()).rejects.toThrow(/Redis/);
      expect(await readdir(artifactRoot)).toEqual(['expired']);
      expect((await readdir(logRoot)).length).toBe(3);
    } finally {
      await endUnreachable(unreachable);
    }
  });

  it('refuses a job id that is not a plain name', async () => {
    await expect(files.remove('../logs')).rejects.toThrow(/not a plain id/);
  });
});
